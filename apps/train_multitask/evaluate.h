#pragma once
// Held-out evaluation: every translation direction (sklearn-style R^2 averaged over features,
// as UnitedNet evaluates, mean per-feature Pearson, and per-cell AUROC for binary targets),
// and classification of the test cells (plain accuracy when a classifier was trained,
// Hungarian-matched k-means clusters of the fused latent otherwise), macro F1, ARI, NMI.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/train_multitask/model.h"
#include "apps/train_multitask/splits.h"
#include "apps/train_multitask/trainer.h"

namespace cg::multitask {

struct Direction {
  size_t source, target;
  std::string name;              // "<source>_to_<target>"
  omics::DenseMatrix predicted;  // test cells x target features
};

// The classifier's answer for every cell: the arg-max class and the softmax probabilities.
struct ClassOutputs {
  std::vector<int64_t> predicted;
  omics::DenseMatrix probabilities;  // cells x classes
};

struct Evaluation {
  nlohmann::json metrics;
  std::vector<Direction> directions;
  omics::DenseMatrix latent;            // fused latent of every cell (cells x latent); 0 columns: none
  std::vector<int64_t> test_predicted;  // class (or matched cluster) per test cell; empty without labels
  ClassOutputs classes;                 // every cell, when a classifier was trained (else empty)
};

// The classifier on latents (cells x latent, on the model's device), in eval mode, no tape.
ClassOutputs classify_latents(TranslationModel& model, const Tensor& latent);

// One direction's held-out scores as a training run (and every baseline) reports them, over the
// target's features that are not controls (`control`, per feature; empty: none):
//   r2, pearson: over features (sklearn's r2_score averaged over features; mean per-feature
//     Pearson); r2_per_cell, pearson_per_cell: each cell's profile over the features, averaged
//     over cells;
//   binary targets: auroc_per_cell, auprc_per_cell (each cell ranks the features; sklearn's
//     roc_auc_score and average_precision_score) and auroc_per_peak, auprc_per_peak (each feature
//     ranks the cells), averaged;
//   with controls: control_features (their names) and controls {r2, pearson} over them alone;
//   r2_per_feature (by name, every feature, controls included) when the target has at most 200.
nlohmann::json translation_metrics(const omics::DenseMatrix& truth, const omics::DenseMatrix& predicted, bool bce,
                                   const std::vector<std::string>& feature_names,
                                   const std::vector<bool>& control = {});

// `controls`: per modality, the control mask of its features (empty: no controls anywhere).
Evaluation evaluate_model(TranslationModel& model, const TrainData& d, const std::vector<std::string>& modality_names,
                          const std::vector<std::vector<std::string>>& feature_names, const Split& split,
                          bool classifier_trained, Device device, uint64_t seed,
                          const std::vector<std::vector<bool>>& controls = {});

// Mean over cells of the rank-based AUROC of predicted scores against binary truth (cells whose
// truth is all 0 or all 1 are skipped); NaN when no cell qualifies.
double mean_auroc_per_cell(const omics::DenseMatrix& truth, const omics::DenseMatrix& scores);

// Lloyd's k-means with k-means++ seeding (several starts, lowest inertia kept).
std::vector<int64_t> kmeans(const omics::DenseMatrix& x, int k, uint64_t seed, int starts = 5, int iterations = 100);

}  // namespace cg::multitask
