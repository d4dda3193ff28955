#include "omics/ridge_regression.h"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/cpu/gemm.h"
#include "omics/error.h"

namespace cg::omics {
namespace {
// Targets are converted to double this many columns at a time (sci-CAR has 52,761 peaks).
constexpr int64_t kTargetBlock = 2048;
}  // namespace

RidgePath::RidgePath(const DenseMatrixD& x, const DenseMatrix& y) {
  const int64_t n = x.rows(), p = x.cols(), t = y.cols();
  if (y.rows() != n)
    throw DataError("ridge: inputs have " + std::to_string(n) + " cells but targets have " + std::to_string(y.rows()));
  if (n < 2 || p < 1 || t < 1)
    throw DataError("ridge: need at least 2 cells, 1 input and 1 target, found " + std::to_string(n) + " cells, " +
                    std::to_string(p) + " inputs, " + std::to_string(t) + " targets");
  const Eigen::RowVectorXd xm = x.colwise().mean();
  x_mean_.assign(xm.data(), xm.data() + p);
  const DenseMatrixD xc = x.rowwise() - xm;
  gram_.resize(p, p);
  kernels::cpu::gemm<double>(true, false, p, p, n, 1.0, xc.data(), xc.data(), 0.0, gram_.data());
  cross_.resize(p, t);
  y_mean_.assign(static_cast<size_t>(t), 0.0);
  for (int64_t c0 = 0; c0 < t; c0 += kTargetBlock) {
    const int64_t w = std::min(kTargetBlock, t - c0);
    const DenseMatrixD yb = y.middleCols(c0, w).cast<double>();
    const Eigen::RowVectorXd ym = yb.colwise().mean();
    std::copy(ym.data(), ym.data() + w, y_mean_.begin() + c0);
    DenseMatrixD cb(p, w);
    kernels::cpu::gemm<double>(true, false, p, w, n, 1.0, xc.data(), yb.data(), 0.0, cb.data());
    cross_.middleCols(c0, w) = cb;
  }
}

RidgeFit RidgePath::fit(int64_t k, double alpha) const {
  if (k < 1 || k > inputs())
    throw DataError("ridge: asked for the first " + std::to_string(k) + " inputs of " + std::to_string(inputs()));
  if (!(alpha >= 0) || !std::isfinite(alpha))
    throw DataError("ridge: the strength alpha must be finite and >= 0, found " + std::to_string(alpha));
  Eigen::MatrixXd a = gram_.topLeftCorner(k, k);
  a.diagonal().array() += alpha;
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(a);
  if (ldlt.info() != Eigen::Success || !ldlt.isPositive() || ldlt.vectorD().minCoeff() <= 0)
    throw DataError("ridge: the system with alpha " + std::to_string(alpha) + " on " + std::to_string(k) +
                    " inputs is singular (give a positive alpha)");
  RidgeFit f;
  f.alpha = alpha;
  f.x_mean.assign(x_mean_.begin(), x_mean_.begin() + k);
  f.y_mean = y_mean_;
  f.weights = ldlt.solve(Eigen::MatrixXd(cross_.topRows(k)));
  return f;
}

RidgeFit ridge_fit(const DenseMatrixD& x, const DenseMatrix& y, double alpha) {
  return RidgePath(x, y).fit(x.cols(), alpha);
}

DenseMatrix ridge_predict(const RidgeFit& fit, const DenseMatrixD& x) {
  const int64_t k = fit.weights.rows(), t = fit.weights.cols(), n = x.rows();
  if (x.cols() < k)
    throw DataError("ridge_predict: the fit uses " + std::to_string(k) + " inputs, the cells have " +
                    std::to_string(x.cols()));
  const Eigen::Map<const Eigen::RowVectorXd> xm(fit.x_mean.data(), k);
  const DenseMatrixD xc = x.leftCols(k).rowwise() - xm;
  DenseMatrix out(n, t);
  for (int64_t c0 = 0; c0 < t; c0 += kTargetBlock) {
    const int64_t w = std::min(kTargetBlock, t - c0);
    const DenseMatrixD wb = fit.weights.middleCols(c0, w);
    DenseMatrixD pb(n, w);
    kernels::cpu::gemm<double>(false, false, n, w, k, 1.0, xc.data(), wb.data(), 0.0, pb.data());
    const Eigen::Map<const Eigen::RowVectorXd> ym(fit.y_mean.data() + c0, w);
    out.middleCols(c0, w) = (pb.rowwise() + ym).cast<float>();
  }
  return out;
}

}  // namespace cg::omics
