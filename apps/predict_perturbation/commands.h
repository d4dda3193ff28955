#pragma once
// The three things predict_perturbation does, one file each:
//   benchmark (the default): leave each cell type out in turn, train, predict it, score it;
//   train: fit one model on every cell of a file and save it as a model folder;
//   predict: apply a saved model to the control cells of a file, for any cell type.
#include "apps/predict_perturbation/config.h"

namespace cg::perturb {

int run_benchmark(Config& c);
int run_dose_benchmark(Config& c);  // benchmark --held-out-dose D (dose_command.cpp)
int run_train(Config& c);
int run_predict(PredictConfig& p);

}  // namespace cg::perturb
