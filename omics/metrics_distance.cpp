#include "omics/metrics_distance.h"

#include <cmath>
#include <string>

#include "omics/error.h"

namespace cg::omics {
namespace {

void check(const DenseMatrixD& x, const DenseMatrixD& y, const char* fn) {
  if (x.rows() == 0 || y.rows() == 0) throw DataError(std::string(fn) + ": a group has no cells");
  if (x.cols() != y.cols())
    throw DataError(std::string(fn) + ": groups have " + std::to_string(x.cols()) + " and " + std::to_string(y.cols()) +
                    " dimensions");
}

// Mean over all (i, j) of f(squared distance between a_i and b_j). Differences are formed
// directly (not via |a|^2 + |b|^2 - 2ab) so that identical cells give exactly 0.
template <class F> double mean_pairwise(const DenseMatrixD& a, const DenseMatrixD& b, F f) {
  double s = 0;
  for (Eigen::Index i = 0; i < a.rows(); ++i) {
    double row = 0;
    for (Eigen::Index j = 0; j < b.rows(); ++j) row += f((a.row(i) - b.row(j)).squaredNorm());
    s += row;
  }
  return s / (double(a.rows()) * double(b.rows()));
}

}  // namespace

double e_distance(const DenseMatrixD& x, const DenseMatrixD& y, bool squared) {
  check(x, y, "e_distance");
  auto f = [squared](double d2) { return squared ? d2 : std::sqrt(d2); };
  return 2.0 * mean_pairwise(x, y, f) - mean_pairwise(x, x, f) - mean_pairwise(y, y, f);
}

double mmd_linear(const DenseMatrixD& x, const DenseMatrixD& y) {
  check(x, y, "mmd_linear");
  return (x.colwise().mean() - y.colwise().mean()).squaredNorm();
}

double mmd_rbf(const DenseMatrixD& x, const DenseMatrixD& y, double gamma) {
  check(x, y, "mmd_rbf");
  if (!(gamma > 0)) throw DataError("mmd_rbf: gamma must be positive");
  auto k = [gamma](double d2) { return std::exp(-gamma * d2); };
  return mean_pairwise(x, x, k) + mean_pairwise(y, y, k) - 2.0 * mean_pairwise(x, y, k);
}

double distance_ratio(const GroupDistance& d, const DenseMatrixD& real, const DenseMatrixD& pred,
                      const DenseMatrixD& ctrl) {
  return d(real, pred) / d(ctrl, pred);
}

}  // namespace cg::omics
