#include "omics/knn_regression.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "kernels/cpu/gemm.h"
#include "omics/error.h"

namespace cg::omics {

std::vector<std::vector<int64_t>> nearest_neighbors(const DenseMatrixD& reference, const DenseMatrixD& query,
                                                    int64_t k) {
  const int64_t r = reference.rows(), q = query.rows(), d = reference.cols();
  if (query.cols() != d)
    throw DataError("nearest_neighbors: reference has " + std::to_string(d) + " dimensions, queries have " +
                    std::to_string(query.cols()));
  if (k < 1 || k > r)
    throw DataError("nearest_neighbors: k must be in [1, " + std::to_string(r) + "] (the reference cells), found " +
                    std::to_string(k));
  // |q - x|^2 = |q|^2 - 2 q.x + |x|^2; |q|^2 is the same for every candidate of a query.
  DenseMatrixD dots(q, r);
  if (q > 0) kernels::cpu::gemm<double>(false, true, q, r, d, 1.0, query.data(), reference.data(), 0.0, dots.data());
  const Eigen::VectorXd ref_norm = reference.rowwise().squaredNorm();
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(q));
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < q; ++i) {
    std::vector<std::pair<double, int64_t>> c(static_cast<size_t>(r));
    for (int64_t j = 0; j < r; ++j) c[static_cast<size_t>(j)] = {ref_norm[j] - 2.0 * dots(i, j), j};
    std::partial_sort(c.begin(), c.begin() + k, c.end());
    auto& o = out[static_cast<size_t>(i)];
    for (int64_t j = 0; j < k; ++j) o.push_back(c[static_cast<size_t>(j)].second);
  }
  return out;
}

DenseMatrix knn_regress(const std::vector<std::vector<int64_t>>& neighbors, const DenseMatrix& targets, int64_t k) {
  DenseMatrix out(static_cast<int64_t>(neighbors.size()), targets.cols());
  for (size_t i = 0; i < neighbors.size(); ++i) {
    if (k < 1 || static_cast<size_t>(k) > neighbors[i].size())
      throw DataError("knn_regress: k = " + std::to_string(k) + " but " + std::to_string(neighbors[i].size()) +
                      " neighbours were found");
    Eigen::RowVectorXd s = Eigen::RowVectorXd::Zero(targets.cols());
    for (int64_t j = 0; j < k; ++j) {
      const int64_t n = neighbors[i][static_cast<size_t>(j)];
      if (n < 0 || n >= targets.rows())
        throw DataError("knn_regress: neighbour " + std::to_string(n) + " outside the " +
                        std::to_string(targets.rows()) + " reference cells");
      s += targets.row(n).cast<double>();
    }
    out.row(static_cast<int64_t>(i)) = (s / static_cast<double>(k)).cast<float>();
  }
  return out;
}

}  // namespace cg::omics
