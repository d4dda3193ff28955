#include "apps/train_multitask/baselines.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "apps/common/matrix_bridge.h"
#include "apps/common/run_notes.h"
#include "apps/train_multitask/evaluate.h"
#include "autograd/error.h"
#include "base/registry.h"
#include "base/text.h"
#include "omics/error.h"
#include "omics/knn_regression.h"
#include "omics/metrics_regression.h"
#include "omics/pca.h"
#include "omics/ranking_metrics.h"
#include "omics/ridge_regression.h"

namespace cg::multitask {
namespace {

const std::vector<int64_t> kDefaultComponents = {10, 20, 50, 100};

omics::DenseMatrix training_mean(const BaselineInputs& in) {
  const Eigen::RowVectorXf mean = in.y_train->cast<double>().colwise().mean().cast<float>();
  return mean.replicate(in.test_cells, 1);
}

double or_lowest(double v) { return std::isfinite(v) ? v : -std::numeric_limits<double>::infinity(); }

BaselineOutput ridge_pca(const BaselineInputs& in, const Config& c) {
  const omics::RidgePath path(*in.pcs_train, *in.y_train);
  double best = -std::numeric_limits<double>::infinity();
  int64_t best_k = in.components.front();
  double best_alpha = c.ridge_alphas.front();
  for (int64_t k : in.components)
    for (double alpha : c.ridge_alphas) {
      const double s = or_lowest(in.validation_score(omics::ridge_predict(path.fit(k, alpha), *in.pcs_validation)));
      if (s > best) best = s, best_k = k, best_alpha = alpha;
    }
  BaselineOutput out;
  out.test_predicted = omics::ridge_predict(path.fit(best_k, best_alpha), *in.pcs_test);
  out.chosen = {{"components", best_k}, {"alpha", best_alpha}, {"validation_" + in.score_name, best}};
  return out;
}

BaselineOutput knn_pca(const BaselineInputs& in, const Config& c) {
  const int64_t n = in.y_train->rows();
  std::vector<int64_t> ks;
  for (int64_t k : c.knn_k)
    if (k <= n) ks.push_back(k);
  if (ks.empty()) ks.push_back(n);
  const int64_t kmax = *std::max_element(ks.begin(), ks.end());
  double best = -std::numeric_limits<double>::infinity();
  int64_t best_c = in.components.front(), best_k = ks.front();
  for (int64_t comps : in.components) {
    const omics::DenseMatrixD train = in.pcs_train->leftCols(comps), val = in.pcs_validation->leftCols(comps);
    const auto nn = omics::nearest_neighbors(train, val, kmax);
    for (int64_t k : ks) {
      const double s = or_lowest(in.validation_score(omics::knn_regress(nn, *in.y_train, k)));
      if (s > best) best = s, best_c = comps, best_k = k;
    }
  }
  const auto nn = omics::nearest_neighbors(in.pcs_train->leftCols(best_c), in.pcs_test->leftCols(best_c), best_k);
  BaselineOutput out;
  out.test_predicted = omics::knn_regress(nn, *in.y_train, best_k);
  out.chosen = {{"components", best_c}, {"k", best_k}, {"validation_" + in.score_name, best}};
  return out;
}

// The component counts to try for a source with `features` features and `cells` training cells.
std::vector<int64_t> component_grid(const Config& c, int64_t cells, int64_t features, const std::string& source) {
  std::vector<int64_t> out;
  if (c.baseline_components.empty()) {
    for (int64_t k : kDefaultComponents)
      if (k < cells && k <= features) out.push_back(k);
    if (out.empty()) out.push_back(std::max<int64_t>(1, std::min(cells - 1, features)));
  } else {
    for (int64_t k : c.baseline_components) {
      if (k >= cells)
        throw Error("--baseline-components " + std::to_string(k) + ": a PCA of " + std::to_string(cells) +
                    " training cells has at most " + std::to_string(cells - 1) +
                    " components; ridge_pca and knn_pca need more training cells than components");
      if (k > features)
        apps::note("--baseline-components " + std::to_string(k) + ": '" + source + "' has " + std::to_string(features) +
                   " features; its baselines use " + std::to_string(features) + " components instead");
      out.push_back(std::min(k, features));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// A source's PCA scores for the train, validation and test cells.
struct SourcePcs {
  std::vector<int64_t> components;  // empty: no PCA could be fitted
  omics::DenseMatrixD train, validation, test;
};

SourcePcs source_pcs(const Config& c, const PreparedModality& p, const Split& split) {
  SourcePcs s;
  const omics::DenseMatrix x = apps::take_rows(p.X, split.train);
  std::vector<int64_t> grid = component_grid(c, x.rows(), x.cols(), p.name);
  while (!grid.empty()) {
    try {
      const omics::PcaModel pca = omics::pca_fit(x, static_cast<int>(grid.back()));
      s.components = grid;
      s.train = omics::pca_transform(pca, x);
      s.validation = omics::pca_transform(pca, apps::take_rows(p.X, split.validation));
      s.test = omics::pca_transform(pca, apps::take_rows(p.X, split.test));
      return s;
    } catch (const omics::DataError& e) {
      apps::note("baselines: " + std::to_string(grid.back()) + " principal components of '" + p.name +
                 "' on the training cells of " + split.name + ": " + e.what() + "; trying fewer");
      grid.pop_back();
    }
  }
  apps::note("baselines: no PCA of '" + p.name + "' could be fitted on " + split.name +
             "; ridge_pca and knn_pca from it are left out");
  return s;
}

omics::DenseMatrix take_columns(const omics::DenseMatrix& x, const std::vector<int64_t>& cols) {
  omics::DenseMatrix out(x.rows(), static_cast<int64_t>(cols.size()));
  for (size_t k = 0; k < cols.size(); ++k) out.col(static_cast<int64_t>(k)) = x.col(cols[k]);
  return out;
}

}  // namespace

const std::vector<Baseline>& baselines() {
  static const std::vector<Baseline> list = {
      {"mean", "every test cell predicted as the training cells' mean (continuous targets)", true, false, false,
       [](const BaselineInputs& in, const Config&) {
         return BaselineOutput{training_mean(in), nlohmann::json::object()};
       }},
      {"peak_frequency",
       "binary targets: every feature scored by how often it is nonzero in the training cells (a fixed ranking)", false,
       true, false,
       [](const BaselineInputs& in, const Config&) {
         return BaselineOutput{training_mean(in), nlohmann::json::object()};
       }},
      {"ridge_pca",
       "ridge regression on the source's top principal components (components and alpha chosen on validation)", true,
       true, true, ridge_pca},
      {"knn_pca",
       "mean target of the k nearest training cells in the source's PCA space (components and k chosen "
       "on validation)",
       true, true, true, knn_pca},
  };
  return list;
}

void add_baseline_flags(CLI::App& app, Config& c) {
  std::string names;
  for (const auto& b : baselines()) names += "\n  " + b.name + ": " + b.description;
  app.add_option("--baselines", c.baselines,
                 "baseline rows scored beside the model in every direction (comma-separated, or none):" + names)
      ->delimiter(',');
  app.add_option("--baseline-components", c.baseline_components,
                 "principal components of the source tried by ridge_pca and knn_pca (default 10,20,50,100, those "
                 "below the training cells)")
      ->delimiter(',');
  app.add_option("--ridge-alphas", c.ridge_alphas,
                 "ridge strengths tried by ridge_pca (default 0.01,0.1,1,10,100,1000,10000,100000)")
      ->delimiter(',');
  app.add_option("--knn-k", c.knn_k,
                 "neighbour counts tried by knn_pca (default 1,3,5,10,20,50, those up to the training cells)")
      ->delimiter(',');
}

void check_baseline_settings(const Config& c) {
  for (const auto& b : c.baselines) {
    if (b == "none") {
      if (c.baselines.size() > 1) throw Error("--baselines: 'none' cannot be combined with baseline names");
      continue;
    }
    find_named(baselines(), b, "--baselines: unknown baseline");
  }
  for (int64_t k : c.baseline_components)
    if (k < 1) throw Error("--baseline-components: expected positive counts, found " + std::to_string(k));
  if (c.ridge_alphas.empty()) throw Error("--ridge-alphas: expected at least one ridge strength");
  for (double a : c.ridge_alphas)
    if (!std::isfinite(a) || a < 0)
      throw Error("--ridge-alphas: expected finite values >= 0, found " + std::to_string(a));
  if (c.knn_k.empty()) throw Error("--knn-k: expected at least one neighbour count");
  for (int64_t k : c.knn_k)
    if (k < 1) throw Error("--knn-k: expected positive counts, found " + std::to_string(k));
}

void check_baseline_cells(const Config& c, const std::vector<Split>& splits) {
  const bool pca = std::any_of(c.baselines.begin(), c.baselines.end(), [](const std::string& b) {
    return b != "none" && find_named(baselines(), b, "--baselines: unknown baseline").needs_pca;
  });
  if (!pca || c.baseline_components.empty()) return;
  const int64_t k = *std::max_element(c.baseline_components.begin(), c.baseline_components.end());
  for (const auto& s : splits) {
    const auto n = static_cast<int64_t>(s.train.size());
    if (k >= n)
      throw Error("--baseline-components " + std::to_string(k) +
                  ": ridge_pca and knn_pca need more training cells "
                  "than principal components, but " +
                  s.name + " has " + std::to_string(n) +
                  " training cells; ask for fewer components (or leave them out with --baselines)");
  }
}

nlohmann::json run_baselines(const Config& c, const std::vector<PreparedModality>& prepared, const Split& split,
                             const std::vector<std::vector<bool>>& controls) {
  nlohmann::json out = nlohmann::json::object();
  std::vector<const Baseline*> asked;
  for (const auto& name : c.baselines)
    if (name != "none") asked.push_back(&find_named(baselines(), name, "--baselines: unknown baseline"));
  if (asked.empty()) return out;
  const bool any_pca = std::any_of(asked.begin(), asked.end(), [](const Baseline* b) { return b->needs_pca; });
  const size_t M = prepared.size();
  std::vector<SourcePcs> pcs(M);
  if (any_pca)
    for (size_t m = 0; m < M; ++m) pcs[m] = source_pcs(c, prepared[m], split);
  for (const Baseline* b : asked)
    out[b->name] = {{"description", b->description}, {"translation", nlohmann::json::object()}};
  for (size_t t = 0; t < M; ++t) {
    const PreparedModality& tgt = prepared[t];
    const omics::DenseMatrix y_train = apps::take_rows(tgt.X, split.train);
    const omics::DenseMatrix y_val = apps::take_rows(tgt.X, split.validation);
    const omics::DenseMatrix y_test = apps::take_rows(tgt.X, split.test);
    const std::vector<bool> mask = controls.empty() ? std::vector<bool>{} : controls[t];
    std::vector<int64_t> scored;
    for (int64_t j = 0; j < tgt.X.cols(); ++j)
      if (mask.empty() || !mask[static_cast<size_t>(j)]) scored.push_back(j);
    const bool all = static_cast<int64_t>(scored.size()) == tgt.X.cols();
    const omics::DenseMatrix y_val_scored = all ? y_val : take_columns(y_val, scored);
    for (size_t s = 0; s < M; ++s) {
      if (s == t) continue;
      BaselineInputs in;
      in.y_train = &y_train;
      in.y_validation = &y_val;
      in.test_cells = static_cast<int64_t>(split.test.size());
      if (tgt.bce) {
        in.score_name = "auroc_per_cell";
        in.validation_score = [&](const omics::DenseMatrix& p) {
          return omics::mean_ranking_per_row(y_val_scored, all ? p : take_columns(p, scored)).auroc;
        };
      } else {
        in.score_name = "r2";
        in.validation_score = [&](const omics::DenseMatrix& p) {
          return omics::r2_score(y_val_scored, all ? p : take_columns(p, scored));
        };
      }
      const std::string dir = prepared[s].name + "_to_" + tgt.name;
      for (const Baseline* b : asked) {
        if (!(tgt.bce ? b->binary_targets : b->continuous_targets)) continue;
        if (b->needs_pca) {
          if (pcs[s].components.empty()) continue;
          in.pcs_train = &pcs[s].train;
          in.pcs_validation = &pcs[s].validation;
          in.pcs_test = &pcs[s].test;
          in.components = pcs[s].components;
        }
        const BaselineOutput o = b->predict(in, c);
        nlohmann::json m = translation_metrics(y_test, o.test_predicted, tgt.bce, tgt.var.index, mask);
        if (!o.chosen.empty()) m["chosen"] = o.chosen;
        out[b->name]["translation"][dir] = m;
      }
    }
  }
  // A baseline that applies to no direction (peak_frequency without a binary target) is left out.
  for (const Baseline* b : asked)
    if (out[b->name]["translation"].empty()) out.erase(b->name);
  return out;
}

}  // namespace cg::multitask
