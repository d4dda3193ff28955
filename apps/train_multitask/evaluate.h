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

struct Evaluation {
  nlohmann::json metrics;
  std::vector<Direction> directions;
  omics::DenseMatrix latent;            // fused latent of every cell (cells x latent)
  std::vector<int64_t> test_predicted;  // class (or matched cluster) per test cell; empty without labels
};

Evaluation evaluate_model(UnitedNetModel& model, const TrainData& d, const std::vector<std::string>& modality_names,
                          const std::vector<std::vector<std::string>>& feature_names, const Split& split,
                          bool classifier_trained, Device device, uint64_t seed);

// Mean over cells of the rank-based AUROC of predicted scores against binary truth (cells whose
// truth is all 0 or all 1 are skipped); NaN when no cell qualifies.
double mean_auroc_per_cell(const omics::DenseMatrix& truth, const omics::DenseMatrix& scores);

// Lloyd's k-means with k-means++ seeding (several starts, lowest inertia kept).
std::vector<int64_t> kmeans(const omics::DenseMatrix& x, int k, uint64_t seed, int starts = 5, int iterations = 100);

}  // namespace cg::multitask
