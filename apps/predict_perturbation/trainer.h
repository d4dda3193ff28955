#pragma once
// A PerturbModel on nn::fit: one phase (Adam on the model's main parameters, with an optional
// linear warm-up; the model's own adversary steps first), early stopping on the validation
// cells' mean "loss"; the parameters of the best validation epoch are restored at the end.
#include <functional>
#include <string>
#include <vector>

#include "apps/common/perturbation_models.h"
#include "nn/fit.h"
#include "omics/matrix.h"

namespace cg::perturb {

struct TrainSettings {
  int epochs = 100, batch_size = 32;
  int patience = 20;  // 0: a fixed budget of `epochs` (the best validation epoch is still the one kept)
  double lr = 1e-3;
  int warmup_steps = 0;  // linear warm-up of the learning rate over the first optimizer steps
  uint64_t seed = 0;
  Device device = Device::CPU;
  std::string label;            // progress label and error-message prefix
  std::string progress_prefix;  // where a sweep is ("type 3/7, seed 1/3")
  // Resumable training: the best weights and the whole state go into this folder (every
  // checkpoint_every epochs); with resume, training continues from it. Empty: in memory.
  std::string checkpoint_folder;
  int checkpoint_every = 0;
  bool resume = false;
  bool profile = false;  // op time totals of the second epoch (nn::FitOptions::profile_epoch)
  // > 0: each training step adds mmd_weight * MMD between the model's predicted and the observed
  // perturbed cells of the minibatch (DiscrepancyBatch, perturbation_models.h), logged as
  // train_mmd. Validation (early stopping) stays on the model's own loss, so runs with different
  // weights choose their best epoch on the same measure. 0: the step is exactly as without it.
  double mmd_weight = 0;
};

// history: per epoch "train_<term>" (terms by name) and "val_loss".
using TrainHistory = nn::FitResult;

// `conditions` holds every cell's one-hot condition (cells x conditions).
TrainHistory train_model(PerturbModel& model, const omics::DenseMatrix& X, const omics::DenseMatrix& conditions,
                         const std::vector<int64_t>& train, const std::vector<int64_t>& validation,
                         const TrainSettings& settings);

}  // namespace cg::perturb
