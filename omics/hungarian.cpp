#include "omics/hungarian.h"

#include <limits>

#include "omics/error.h"

namespace cg::omics {
namespace {

// Rows <= cols. Row potentials u, column potentials v; p[j] = row matched to column j
// (1-based, 0 = none); each row is added by a shortest augmenting path (Dijkstra on reduced costs).
std::vector<int64_t> assign_rows(const DenseMatrixD& a) {
  const Eigen::Index n = a.rows(), m = a.cols();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0.0), v(m + 1, 0.0);
  std::vector<Eigen::Index> p(m + 1, 0), way(m + 1, 0);
  for (Eigen::Index i = 1; i <= n; ++i) {
    p[0] = i;
    Eigen::Index j0 = 0;
    std::vector<double> minv(m + 1, inf);
    std::vector<char> used(m + 1, 0);
    do {
      used[j0] = 1;
      const Eigen::Index i0 = p[j0];
      double delta = inf;
      Eigen::Index j1 = 0;
      for (Eigen::Index j = 1; j <= m; ++j) {
        if (used[j]) continue;
        const double cur = a(i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) minv[j] = cur, way[j] = j0;
        if (minv[j] < delta) delta = minv[j], j1 = j;
      }
      for (Eigen::Index j = 0; j <= m; ++j) {
        if (used[j]) u[p[j]] += delta, v[j] -= delta;
        else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      const Eigen::Index j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int64_t> row_to_col(static_cast<size_t>(n), -1);
  for (Eigen::Index j = 1; j <= m; ++j)
    if (p[j] != 0) row_to_col[p[j] - 1] = j - 1;
  return row_to_col;
}

}  // namespace

std::vector<int64_t> hungarian_min_cost(const DenseMatrixD& cost) {
  if (!cost.allFinite()) throw DataError("hungarian_min_cost: cost matrix has NaN or inf entries");
  if (cost.rows() == 0 || cost.cols() == 0) return std::vector<int64_t>(cost.rows(), -1);
  if (cost.rows() <= cost.cols()) return assign_rows(cost);
  // More rows than columns: assign the columns to rows on the transpose, then invert.
  const DenseMatrixD t = cost.transpose();
  const auto col_to_row = assign_rows(t);
  std::vector<int64_t> row_to_col(static_cast<size_t>(cost.rows()), -1);
  for (size_t c = 0; c < col_to_row.size(); ++c) row_to_col[col_to_row[c]] = static_cast<int64_t>(c);
  return row_to_col;
}

}  // namespace cg::omics
