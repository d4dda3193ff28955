#include "apps/train_multitask/likelihoods.h"

#include <cmath>
#include <sstream>

#include "apps/train_multitask/config.h"
#include "apps/train_multitask/data.h"
#include "autograd/error.h"
#include "autograd/ops.h"
#include "base/registry.h"
#include "nn/losses.h"

namespace cg::multitask {

const std::vector<LikelihoodInfo>& likelihoods() {
  static const std::vector<LikelihoodInfo> l = {
      {"mse", "mean squared error on the preprocessed values (linear decoder output)", OutputKind::Mse, 1, false},
      {"bce", "binary cross-entropy on the binarized data (sigmoid decoder output)", OutputKind::Bce, 1, false},
      {"nb", "negative binomial NLL of the raw counts (scVI: softmax x library size, theta per gene)", OutputKind::Nb,
       1, true},
      {"zinb", "zero-inflated negative binomial NLL of the raw counts (nb plus per-gene dropout logits)",
       OutputKind::Zinb, 2, true},
  };
  return l;
}

const LikelihoodInfo& likelihood(const std::string& name) {
  return find_named(likelihoods(), name, "--distance: unknown likelihood");
}

CountParameters::CountParameters(int64_t features, double mean_library) : nn::Module("CountParameters") {
  log_theta = register_parameter("log_theta", Tensor::zeros({1, features}));
  library = register_buffer("library", Tensor::full({1, 1}, mean_library));
}

namespace {
struct CountOutputs {
  Tensor rho, pi_logits;
};
CountOutputs split_counts(const LikelihoodInfo& l, const Tensor& out) {
  const int64_t g = out.shape()[1] / l.outputs_per_feature;
  CountOutputs c;
  c.rho = softmax_rows(l.outputs_per_feature == 1 ? out : slice(out, 1, 0, g));
  if (l.kind == OutputKind::Zinb) c.pi_logits = slice(out, 1, g, 2 * g);
  return c;
}
}  // namespace

Tensor output_loss(const LikelihoodInfo& l, const Tensor& out, const Tensor& x, const Tensor& counts,
                   const Tensor& library, CountParameters* cp) {
  switch (l.kind) {
    case OutputKind::Mse: return nn::mse_loss(out, x);
    case OutputKind::Bce: return nn::bce_with_logits_loss(out, x);
    case OutputKind::Nb:
    case OutputKind::Zinb: {
      const CountOutputs c = split_counts(l, out);
      const Tensor mu = c.rho * library;
      const Tensor theta = exp(cp->log_theta);
      const double per_gene = 1.0 / static_cast<double>(counts.shape()[1]);
      return (l.kind == OutputKind::Nb ? nn::nb_nll(counts, mu, theta) : nn::zinb_nll(counts, mu, theta, c.pi_logits)) *
             per_gene;
    }
  }
  throw Error("output_loss: unknown likelihood");
}

Tensor output_prediction(const LikelihoodInfo& l, const Tensor& out, CountParameters* cp) {
  switch (l.kind) {
    case OutputKind::Mse: return out;
    case OutputKind::Bce: return sigmoid(out);
    case OutputKind::Nb:
    case OutputKind::Zinb: return split_counts(l, out).rho * cp->library;
  }
  throw Error("output_prediction: unknown likelihood");
}

omics::DenseMatrix counts_to_model_scale(const ModalityPreprocessing& p, const omics::DenseMatrix& counts) {
  omics::DenseMatrix in = omics::DenseMatrix::Zero(counts.rows(), static_cast<int64_t>(p.input_features.size()));
  for (size_t k = 0; k < p.kept.size(); ++k) in.col(p.kept[k]) = counts.col(static_cast<int64_t>(k));
  return apply_preprocessing(p, omics::CsrMatrix::from_dense(in), "predicted counts of modality '" + p.name + "'");
}

void check_count_modalities(const Dataset& d, const std::vector<std::string>& distance) {
  const auto dist = parse_assignments(distance, "--distance");
  for (const auto& m : d.modalities) {
    if (!dist.count(m.name) || !likelihood(dist.at(m.name)).counts) continue;
    const std::string& name = m.name;
    auto refuse = [&](float v, int64_t row, int64_t col, const char* what) {
      std::ostringstream os;
      os << "--distance " << name << "=" << dist.at(name) << ": modality '" << name << "' (" << m.file << ") has "
         << what << " values (" << v << " for cell '" << d.obs.index[static_cast<size_t>(row)] << "', feature '"
         << m.var.index[static_cast<size_t>(col)] << "'); a count likelihood needs raw counts; use --distance "
         << name << "=mse";
      throw Error(os.str());
    };
    auto check = [&](float v, int64_t row, int64_t col) {
      if (!std::isfinite(v) || v < 0) refuse(v, row, col, "negative");
      if (v != std::floor(v)) refuse(v, row, col, "non-integer");
    };
    if (m.X.sparse) {
      const auto& x = m.X.csr;
      for (int64_t r = 0; r < x.rows; ++r)
        for (int64_t k = x.indptr[r]; k < x.indptr[r + 1]; ++k) check(x.data[k], r, x.indices[k]);
    } else {
      for (int64_t r = 0; r < m.X.dense.rows(); ++r)
        for (int64_t c = 0; c < m.X.dense.cols(); ++c) check(m.X.dense(r, c), r, c);
    }
  }
}

}  // namespace cg::multitask
