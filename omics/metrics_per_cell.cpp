#include "omics/metrics_per_cell.h"

#include <cmath>
#include <string>

#include "omics/error.h"

namespace cg::omics {
namespace {

void check_shapes(const DenseMatrix& a, const DenseMatrix& b, const char* fn) {
  if (a.rows() != b.rows() || a.cols() != b.cols())
    throw DataError(std::string(fn) + ": truth is " + std::to_string(a.rows()) + " x " + std::to_string(a.cols()) +
                    " but the prediction is " + std::to_string(b.rows()) + " x " + std::to_string(b.cols()));
}

template <class RowScore> double mean_over_rows(const DenseMatrix& truth, const DenseMatrix& pred, RowScore score) {
  double s = 0;
  int64_t n = 0;
  for (int64_t i = 0; i < truth.rows(); ++i) {
    const double v = score(truth.row(i).cast<double>(), pred.row(i).cast<double>());
    if (std::isfinite(v)) {
      s += v;
      ++n;
    }
  }
  return n ? s / static_cast<double>(n) : NAN;
}

}  // namespace

double mean_row_r2(const DenseMatrix& truth, const DenseMatrix& predicted) {
  check_shapes(truth, predicted, "mean_row_r2");
  return mean_over_rows(truth, predicted, [](const Eigen::RowVectorXd& y, const Eigen::RowVectorXd& p) {
    const double tot = (y.array() - y.mean()).square().sum();
    return tot > 0 ? 1.0 - (y - p).squaredNorm() / tot : NAN;
  });
}

double mean_row_pearson(const DenseMatrix& truth, const DenseMatrix& predicted) {
  check_shapes(truth, predicted, "mean_row_pearson");
  return mean_over_rows(truth, predicted, [](const Eigen::RowVectorXd& y, const Eigen::RowVectorXd& p) {
    const Eigen::RowVectorXd a = y.array() - y.mean(), b = p.array() - p.mean();
    const double den = std::sqrt(a.squaredNorm() * b.squaredNorm());
    return den > 0 ? a.dot(b) / den : NAN;
  });
}

}  // namespace cg::omics
