#pragma once
// Baseline translators: what a translation model has to beat. Each is fitted per direction on
// the same training cells and the same preprocessed values as the model, has its settings chosen
// on the same validation cells (R^2 over the target's non-control features, or AUROC per cell
// for a binary target), and is scored on the same test cells by translation_metrics.
// Registered once by name: --baselines, --help and the tables read this list.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/train_multitask/config.h"
#include "apps/train_multitask/data.h"
#include "apps/train_multitask/splits.h"
#include "omics/matrix.h"

namespace CLI {
class App;
}

namespace cg::multitask {

// One direction's cells as a baseline sees them.
struct BaselineInputs {
  // The source's principal-component scores (PCA fitted on the training cells), columns: the
  // largest count in `components`. Null when the baseline does not need them.
  const omics::DenseMatrixD *pcs_train = nullptr, *pcs_validation = nullptr, *pcs_test = nullptr;
  std::vector<int64_t> components;  // component counts to try
  const omics::DenseMatrix *y_train = nullptr, *y_validation = nullptr;
  int64_t test_cells = 0;
  // The validation score of a prediction of the validation cells (higher is better), and its name.
  std::function<double(const omics::DenseMatrix&)> validation_score;
  std::string score_name;
};

struct BaselineOutput {
  omics::DenseMatrix test_predicted;  // test cells x target features
  nlohmann::json chosen;              // the settings chosen on validation and their score
};

struct Baseline {
  std::string name, description;
  bool continuous_targets = true, binary_targets = true;  // which targets it applies to
  bool needs_pca = false;
  std::function<BaselineOutput(const BaselineInputs&, const Config&)> predict;
};
const std::vector<Baseline>& baselines();

// --baselines, --baseline-components, --ridge-alphas, --knn-k (bound to c), and their checks.
void add_baseline_flags(CLI::App& app, Config& c);
void check_baseline_settings(const Config& c);
// Given --baseline-components, each count must be below every split's training cells (a PCA of
// n cells has at most n - 1 components): an error naming the count and the split otherwise.
void check_baseline_cells(const Config& c, const std::vector<Split>& splits);

// Every asked baseline in every direction it applies to, on `split`:
// {name: {"description": ..., "translation": {"<src>_to_<tgt>": metrics + {"chosen": ...}}}}.
// `controls`: per modality, its control mask (translation_metrics); empty: none.
nlohmann::json run_baselines(const Config& c, const std::vector<PreparedModality>& prepared, const Split& split,
                             const std::vector<std::vector<bool>>& controls);

}  // namespace cg::multitask
