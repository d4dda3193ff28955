#pragma once
// A minibatch's cells grouped by condition, for the optional distribution term of the
// perturbation networks (the discrepancy-VAE idea, issue 13 item 3): weight * MMD_rbf between
// the model's predicted perturbed cells and the observed perturbed cells of the batch. Built on
// the host from the batch's row indices and the host copies of the data, so nothing is read back
// from the device during a step.
#include <cstdint>
#include <utility>
#include <vector>

#include "omics/matrix.h"

namespace cg::perturb {

struct DiscrepancyBatch {
  double weight = 0;
  std::vector<int32_t> control;  // positions (rows of the batch) of the control cells
  // (condition column >= 1, positions) per perturbed value with at least 2 cells in the batch
  std::vector<std::pair<int, std::vector<int32_t>>> perturbed;
  // RBF sigmas: nn::mmd_median_bandwidths of the batch's observed control and perturbed cells,
  // so the kernel scale follows the data, not the predictions being trained. Empty when the
  // batch has no pair to compare (the term is then 0).
  std::vector<double> bandwidths;
};

// `rows` index X and C (cells x one-hot conditions, column 0 the control); a cell's condition is
// the column set in C.
DiscrepancyBatch discrepancy_batch(const omics::DenseMatrix& X, const omics::DenseMatrix& C,
                                   const std::vector<int64_t>& rows, double weight);

}  // namespace cg::perturb
