#pragma once
// Scoring one prediction against the real perturbed cells of the held-out type (scGen and the
// perturbation thesis' evaluation). The parts that depend only on real data (DEGs of
// the real response, the PCA space) are computed once per held-out type and reused.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "omics/matrix.h"
#include "omics/pca.h"

namespace cg::perturb {

struct EvalReference {
  omics::DenseMatrix real, ctrl;
  std::vector<int64_t> top_degs;  // top-k genes of the real response (Wilcoxon, scanpy ranking)
  std::vector<int64_t> top20_degs;  // its first 20 (the thesis reports R^2 over top-20 and top-100)
  std::vector<double> deg_scores;
  omics::PcaModel pca;  // fitted on the real cells (controls + perturbed) of the type
  omics::DenseMatrixD real_pcs, ctrl_pcs;
  std::vector<double> real_mean, ctrl_mean;  // per gene
};

struct EvalSettings {
  int top_degs = 100, bootstrap = 100, pca_components = 50;
  uint64_t seed = 0;
};

EvalReference make_reference(omics::DenseMatrix real, omics::DenseMatrix ctrl, const EvalSettings& s);

// Metrics: r2_all, r2_top (with bootstrap mean/std), common_degs, e_distance_ratio,
// mmd_linear_ratio, mmd_rbf (pred vs real), pearson_delta, cell counts, and the agreement of
// the predicted and the real log-fold-change against the controls (mean(pred) - mean(ctrl) vs
// mean(real) - mean(ctrl); the data are log1p, so differences of means are log-fold-changes):
// logfc_pearson_all, logfc_cosine_all, logfc_pearson_top, logfc_cosine_top (top: the top DEGs).
// logfc_pearson_all is pearson_delta under the name the benchmarks (PerturBench) use.
nlohmann::json evaluate_prediction(const omics::DenseMatrix& pred, const EvalReference& ref, const EvalSettings& s);

}  // namespace cg::perturb
