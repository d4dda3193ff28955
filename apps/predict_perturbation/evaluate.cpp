#include "apps/predict_perturbation/evaluate.h"

#include <algorithm>
#include <cmath>

#include "apps/common/matrix_bridge.h"
#include "omics/bootstrap.h"
#include "omics/metrics_deg.h"
#include "omics/metrics_distance.h"
#include "omics/metrics_regression.h"

namespace cg::perturb {

using omics::DenseMatrix;

EvalReference make_reference(DenseMatrix real, DenseMatrix ctrl, const EvalSettings& s) {
  EvalReference r;
  r.real = std::move(real);
  r.ctrl = std::move(ctrl);
  const auto degs = omics::rank_genes_groups(r.real, r.ctrl);
  r.top_degs = degs.top(s.top_degs);
  r.deg_scores = degs.scores;
  DenseMatrix both(r.real.rows() + r.ctrl.rows(), r.real.cols());
  both << r.ctrl, r.real;
  const int k = static_cast<int>(std::min<int64_t>({s.pca_components, both.rows() - 1, both.cols()}));
  r.pca = omics::pca_fit(both, k);
  r.real_pcs = omics::pca_transform(r.pca, r.real);
  r.ctrl_pcs = omics::pca_transform(r.pca, r.ctrl);
  return r;
}

nlohmann::json evaluate_prediction(const DenseMatrix& pred, const EvalReference& ref, const EvalSettings& s) {
  nlohmann::json m;
  m["cells_predicted"] = pred.rows();
  m["cells_real"] = ref.real.rows();
  m["cells_control"] = ref.ctrl.rows();
  m["r2_all"] = omics::r2_of_means(pred, ref.real);
  m["r2_top"] = omics::r2_of_means(pred, ref.real, ref.top_degs);

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
