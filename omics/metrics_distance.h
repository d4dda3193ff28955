#pragma once
// Distribution distances between groups of cells (usually in PCA space), for comparing a
// predicted population with the real one.
#include <functional>

#include "omics/matrix.h"

namespace cg::omics {

// Energy distance 2 E||x - y|| - E||x - x'|| - E||y - y'||, every expectation the mean over
// all ordered pairs, the i == j zero pairs of the within terms included (the V-statistic,
// as pertpy's Edistance averages its full pairwise matrices). squared = true uses squared
// Euclidean distances instead (pertpy's default metric; it then equals 2 ||mean x - mean y||^2).
double e_distance(const DenseMatrixD& x, const DenseMatrixD& y, bool squared = false);

// Linear-kernel MMD: ||mean(x) - mean(y)||^2.
double mmd_linear(const DenseMatrixD& x, const DenseMatrixD& y);
// Gaussian-kernel MMD^2, biased (V-statistic) estimator:
// mean k(x, x') + mean k(y, y') - 2 mean k(x, y), k(a, b) = exp(-gamma ||a - b||^2).
double mmd_rbf(const DenseMatrixD& x, const DenseMatrixD& y, double gamma);

using GroupDistance = std::function<double(const DenseMatrixD&, const DenseMatrixD&)>;
// d(real, pred) / d(ctrl, pred): how much closer the prediction is to the truth than to the
// unperturbed start (below 1 is better than predicting "no change").
double distance_ratio(const GroupDistance& d, const DenseMatrixD& real, const DenseMatrixD& pred,
                      const DenseMatrixD& ctrl);

}  // namespace cg::omics
