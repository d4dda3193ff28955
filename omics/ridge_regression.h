#pragma once
// Ridge regression with an intercept in closed form, as sklearn.linear_model.Ridge(alpha,
// fit_intercept=True) solves it: W = (Xc^T Xc + alpha I)^-1 Xc^T Y and b = mean(Y) - mean(X) W,
// where Xc is X with its column means removed. Xc^T Xc and Xc^T Y come from the engine's GEMM
// once; every ridge strength and every leading block of inputs (the top k principal components)
// is then a small k x k solve, so a validation grid costs little more than one fit.
#include <cstdint>
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

struct RidgeFit {
  double alpha = 0;
  std::vector<double> x_mean;  // per input used (k)
  std::vector<double> y_mean;  // per target
  DenseMatrixD weights;        // k x targets
};

class RidgePath {
 public:
  // x: cells x inputs, y: cells x targets (same cells). Throws DataError on mismatched or
  // empty inputs.
  RidgePath(const DenseMatrixD& x, const DenseMatrix& y);
  int64_t inputs() const { return gram_.rows(); }
  // The fit on the first k inputs with strength alpha >= 0 (alpha 0 needs Xc of full column
  // rank; a singular system is a DataError).
  RidgeFit fit(int64_t k, double alpha) const;

 private:
  std::vector<double> x_mean_, y_mean_;
  DenseMatrixD gram_;   // Xc^T Xc, inputs x inputs
  DenseMatrixD cross_;  // Xc^T Y, inputs x targets (Xc^T Yc = Xc^T Y: Xc's columns sum to 0)
};

// One-off fit on all inputs.
RidgeFit ridge_fit(const DenseMatrixD& x, const DenseMatrix& y, double alpha);

// Predictions (cells x targets) for the first fit.weights.rows() columns of x.
DenseMatrix ridge_predict(const RidgeFit& fit, const DenseMatrixD& x);

}  // namespace cg::omics
