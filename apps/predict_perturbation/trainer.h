#pragma once
// Minibatch training of a PerturbModel with Adam and early stopping on the validation loss;
// the parameters of the best validation epoch are restored at the end.
#include <map>
#include <string>
#include <vector>

#include "apps/common/perturbation_models.h"
#include "omics/matrix.h"

namespace cg::perturb {

struct TrainSettings {
  int epochs = 100, patience = 20, batch_size = 32;
  double lr = 1e-3;
  uint64_t seed = 0;
  Device device = Device::CPU;
  std::string label;  // progress prefix
};

struct TrainHistory {
  std::vector<std::string> terms;                    // loss term names, in order
  std::vector<std::map<std::string, double>> epochs;  // per epoch: "train_<term>", "val_loss"
  int best_epoch = 0;                                // 1-based
  double seconds = 0;
};

// `conditions` holds every cell's one-hot condition (cells x conditions).
TrainHistory train_model(PerturbModel& model, const omics::DenseMatrix& X, const omics::DenseMatrix& conditions,
                         const std::vector<int64_t>& train, const std::vector<int64_t>& validation,
                         const TrainSettings& settings);

// Runs f over rows in chunks under no-grad, eval mode, and stacks the outputs (cells x out).
omics::DenseMatrix map_rows(const omics::DenseMatrix& X, Device device, const std::function<Tensor(const Tensor&)>& f,
                            int64_t chunk = 512);

}  // namespace cg::perturb
