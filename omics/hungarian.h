#pragma once
// Optimal assignment (Kuhn-Munkres with potentials, O(n^2 m)), used to match cluster ids to
// class labels before computing clustering accuracy.
#include <cstdint>
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

// Minimum-cost assignment on a rows x cols cost matrix (rectangular allowed): returns for each
// row its column, or -1 when rows > cols and the row is left unassigned. Every column gets at
// most one row and min(rows, cols) pairs are made. Costs must be finite.
std::vector<int64_t> hungarian_min_cost(const DenseMatrixD& cost);

}  // namespace cg::omics
