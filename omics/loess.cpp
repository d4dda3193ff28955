#include "omics/loess.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "omics/error.h"

namespace cg::omics {

std::vector<double> loess_fit(const std::vector<double>& x, const std::vector<double>& y, double span, int degree) {
  const auto n = static_cast<int64_t>(x.size());
  if (y.size() != x.size())
    throw DataError("loess_fit: x has " + std::to_string(x.size()) + " values, y has " + std::to_string(y.size()));
  if (degree < 0 || degree > 2) throw DataError("loess_fit: degree must be 0, 1 or 2");
  if (!(span > 0 && span <= 1)) throw DataError("loess_fit: span must be in (0, 1]");
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i]) || !std::isfinite(y[i]))
      throw DataError("loess_fit: non-finite input at point " + std::to_string(i));
  const int64_t q = std::max<int64_t>(static_cast<int64_t>(std::floor(span * double(n))), degree + 1);
  if (q > n)
    throw DataError("loess_fit: " + std::to_string(n) + " points are too few for span " + std::to_string(span) +
                    " and degree " + std::to_string(degree));

  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return x[a] < x[b]; });
  std::vector<double> xs(static_cast<size_t>(n)), ys(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) xs[i] = x[order[i]], ys[i] = y[order[i]];

  std::vector<double> fitted(static_cast<size_t>(n));
  const int p = degree + 1;
  int64_t lo = 0;  // the q nearest neighbours of sorted point i form the window [lo, lo + q)
  for (int64_t i = 0; i < n; ++i) {
    // As x0 moves right the optimal window only moves right: slide while the point just
    // past the window is closer than the window's leftmost point.
    lo = std::min(lo, i);
    while (lo + q < n && xs[lo + q] - xs[i] < xs[i] - xs[lo]) ++lo;
    const double x0 = xs[i];
    const double h = std::max(x0 - xs[lo], xs[lo + q - 1] - x0);
    Eigen::Matrix3d A = Eigen::Matrix3d::Zero();
    Eigen::Vector3d b = Eigen::Vector3d::Zero();
    for (int64_t j = lo; j < lo + q; ++j) {
      const double d = std::abs(xs[j] - x0);
      double w;
      if (h > 0) {
        const double r = d / h;
        w = r < 1 ? std::pow(1 - r * r * r, 3) : 0.0;
      } else {
        w = 1.0;  // all q neighbours coincide with x0
      }
      if (w == 0) continue;
      // Basis in u = (x - x0) / h keeps the 3x3 system well conditioned.
      const double u = h > 0 ? (xs[j] - x0) / h : 0.0;
      const double basis[3] = {1.0, u, u * u};
      for (int a = 0; a < p; ++a) {
        b[a] += w * basis[a] * ys[j];
        for (int c = 0; c < p; ++c) A(a, c) += w * basis[a] * basis[c];
      }
    }
    // Minimum-norm solution: a neighbourhood with fewer distinct x than coefficients still fits.
    const Eigen::MatrixXd Ap = A.topLeftCorner(p, p);
    const Eigen::VectorXd bp = b.head(p);
    const Eigen::VectorXd beta = Ap.completeOrthogonalDecomposition().solve(bp);
    fitted[order[i]] = beta[0];
  }
  return fitted;
}

}  // namespace cg::omics
