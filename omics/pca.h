#pragma once
// Principal component analysis for evaluation distances (fit on one matrix, project others).
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

struct PcaModel {
  std::vector<double> mean;                      // per feature, subtracted before projecting
  DenseMatrixD components;                       // k x features, orthonormal rows
  std::vector<double> explained_variance;        // eigenvalues of the covariance (ddof 1)
  std::vector<double> explained_variance_ratio;  // over the total variance of all features
};

// Exact PCA of the centered data in double: the eigen-decomposition of the smaller of the
// Gram (cells x cells) and covariance (features x features) matrices, which gives the same
// components as sklearn's full SVD. Sign convention (sklearn >= 1.5 svd_flip on V): in every
// component the loading of largest absolute value is positive (first such on ties).
// Throws DataError when k < 1, k > min(cells, features) or the data has rank < k.
PcaModel pca_fit(const DenseMatrix& x, int k);

// Scores (cells x k) = (x - mean) * components^T.
DenseMatrixD pca_transform(const PcaModel& model, const DenseMatrix& x);

}  // namespace cg::omics
