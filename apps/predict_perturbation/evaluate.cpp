#include "apps/predict_perturbation/evaluate.h"

#include <algorithm>
#include <cmath>

#include "apps/common/matrix_bridge.h"
#include "autograd/error.h"
#include "omics/bootstrap.h"
#include "omics/correlation.h"
#include "omics/error.h"
#include "omics/gene_stats.h"
#include "omics/metrics_deg.h"
#include "omics/metrics_distance.h"
#include "omics/metrics_regression.h"

namespace cg::perturb {

using omics::DenseMatrix;

namespace {

// NaN when either vector is zero (the `control` baseline predicts no change: no direction).
double cosine(const std::vector<double>& a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
  if (aa == 0 || bb == 0) return NAN;
  return std::clamp(ab / std::sqrt(aa * bb), -1.0, 1.0);
}

std::vector<double> minus(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> d(a.size());
  for (size_t g = 0; g < a.size(); ++g) d[g] = a[g] - b[g];
  return d;
}

std::vector<double> pick(const std::vector<double>& v, const std::vector<int64_t>& genes) {
  std::vector<double> out;
  for (int64_t g : genes) out.push_back(v.at(static_cast<size_t>(g)));
  return out;
}

}  // namespace

EvalReference make_reference(DenseMatrix real, DenseMatrix ctrl, const EvalSettings& s) {
  EvalReference r;
  r.real = std::move(real);
  r.ctrl = std::move(ctrl);
  const auto degs = omics::rank_genes_groups(r.real, r.ctrl);
  r.top_degs = degs.top(s.top_degs);
  r.top20_degs = degs.top(std::min(20, s.top_degs));
  r.deg_scores = degs.scores;
  DenseMatrix both(r.real.rows() + r.ctrl.rows(), r.real.cols());
  both << r.ctrl, r.real;
  const int k = static_cast<int>(std::min<int64_t>({s.pca_components, both.rows() - 1, both.cols()}));
  try {
    r.pca = omics::pca_fit(both, k);
  } catch (const omics::DataError& e) {
    std::string why = e.what();
    if (why.rfind("pca_fit: ", 0) == 0) why = why.substr(9);
    throw Error("--pca-components " + std::to_string(s.pca_components) + ": the held-out type's real and control " +
                "cells do not span " + std::to_string(k) + " dimensions (" + why + "); lower --pca-components");
  }
  r.real_pcs = omics::pca_transform(r.pca, r.real);
  r.ctrl_pcs = omics::pca_transform(r.pca, r.ctrl);
  r.real_mean = omics::column_means(r.real);
  r.ctrl_mean = omics::column_means(r.ctrl);
  return r;
}

nlohmann::json evaluate_prediction(const DenseMatrix& pred, const EvalReference& ref, const EvalSettings& s) {
  nlohmann::json m;
  m["cells_predicted"] = pred.rows();
  m["cells_real"] = ref.real.rows();
  m["cells_control"] = ref.ctrl.rows();
  m["r2_all"] = omics::r2_of_means(pred, ref.real);
  m["r2_top"] = omics::r2_of_means(pred, ref.real, ref.top_degs);
  m["r2_top20"] = omics::r2_of_means(pred, ref.real, ref.top20_degs);

  // Bootstrap: predicted and real cells resampled independently (80%, with replacement).
  omics::BootstrapOptions bo;
  bo.n_resamples = s.bootstrap;
  bo.seed = s.seed;
  auto boot = [&](const std::vector<int64_t>* genes) {
    return omics::bootstrap_pair(
        pred.rows(), ref.real.rows(),
        [&](const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
          const DenseMatrix pa = apps::take_rows(pred, a), rb = apps::take_rows(ref.real, b);
          return genes ? omics::r2_of_means(pa, rb, *genes) : omics::r2_of_means(pa, rb);
        },
        bo);
  };
  const auto b_all = boot(nullptr), b_top = boot(&ref.top_degs);
  m["r2_all_boot_mean"] = b_all.mean;
  m["r2_all_boot_std"] = b_all.std;
  m["r2_top_boot_mean"] = b_top.mean;
  m["r2_top_boot_std"] = b_top.std;

  // DEGs of the predicted response against the same controls.
  const auto pred_degs = omics::rank_genes_groups(pred, ref.ctrl);
  m["common_degs"] =
      omics::common_top_k(omics::rank_genes_groups(ref.real, ref.ctrl).ranking, pred_degs.ranking, s.top_degs);
  m["pearson_delta"] = omics::pearson_of_deltas(pred, ref.real, ref.ctrl);

  // Whether the predicted change points the right way, whatever the baseline both share (which
  // dominates R^2 of means): PerturBench's and Ahlmann-Eltze et al.'s recommended measure.
  if (pred.cols() != static_cast<int64_t>(ref.real_mean.size()))
    throw Error("evaluate_prediction: the prediction has " + std::to_string(pred.cols()) + " genes, the real cells " +
                std::to_string(ref.real_mean.size()));
  const std::vector<double> lfc_pred = minus(omics::column_means(pred), ref.ctrl_mean),
                            lfc_real = minus(ref.real_mean, ref.ctrl_mean);
  m["logfc_pearson_all"] = omics::pearson(lfc_pred, lfc_real);
  m["logfc_cosine_all"] = cosine(lfc_pred, lfc_real);
  m["logfc_pearson_top"] = omics::pearson(pick(lfc_pred, ref.top_degs), pick(lfc_real, ref.top_degs));
  m["logfc_cosine_top"] = cosine(pick(lfc_pred, ref.top_degs), pick(lfc_real, ref.top_degs));

  // Distances in the PCA space of the real cells: below 1 means closer to the truth than to "no change".
  const omics::DenseMatrixD pred_pcs = omics::pca_transform(ref.pca, pred);
  m["e_distance"] = omics::e_distance(ref.real_pcs, pred_pcs);
  m["e_distance_ratio"] = omics::distance_ratio([](const auto& a, const auto& b) { return omics::e_distance(a, b); },
                                                ref.real_pcs, pred_pcs, ref.ctrl_pcs);
  m["mmd_linear"] = omics::mmd_linear(ref.real_pcs, pred_pcs);
  m["mmd_linear_ratio"] = omics::distance_ratio([](const auto& a, const auto& b) { return omics::mmd_linear(a, b); },
                                                ref.real_pcs, pred_pcs, ref.ctrl_pcs);
  // RBF bandwidth from the scale of the real cells in PCA space: gamma = 1 / (2 mean ||x||^2).
  const double gamma = 1.0 / std::max(1e-12, 2.0 * ref.real_pcs.colwise().squaredNorm().sum() /
                                                 std::max<int64_t>(1, ref.real_pcs.rows()));
  m["mmd_rbf"] = omics::mmd_rbf(ref.real_pcs, pred_pcs, gamma);
  // JSON has no NaN: write null so that readers see "undefined" rather than a parse error.
  for (auto& [k, v] : m.items())
    if (v.is_number_float() && !std::isfinite(v.get<double>())) v = nullptr;
  return m;
}

}  // namespace cg::perturb
