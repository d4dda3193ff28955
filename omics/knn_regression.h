#pragma once
// k-nearest-neighbour regression (sklearn.neighbors.KNeighborsRegressor, uniform weights,
// Euclidean distance, brute force): a query's prediction is the mean target of its k nearest
// reference cells. Neighbours are found once for the largest k, so choosing k on validation
// cells costs one search.
#include <cstdint>
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

// For every query row, the indices of its k nearest reference rows (squared Euclidean
// distances from the engine's GEMM), nearest first; equal distances keep the lower index first.
// Throws DataError unless 1 <= k <= reference rows and the column counts agree.
std::vector<std::vector<int64_t>> nearest_neighbors(const DenseMatrixD& reference, const DenseMatrixD& query,
                                                    int64_t k);

// Mean of targets' rows (reference cells x targets) over the first k neighbours of each query.
DenseMatrix knn_regress(const std::vector<std::vector<int64_t>>& neighbors, const DenseMatrix& targets, int64_t k);

}  // namespace cg::omics
