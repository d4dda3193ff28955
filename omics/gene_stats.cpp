#include "omics/gene_stats.h"

#include <cmath>

#include "omics/error.h"

namespace cg::omics {
namespace {

// Two-pass (mean, then squared deviations) so that large means do not cancel the variance.
GeneMeanVar finish(std::vector<double> sum, std::vector<double> sq_dev, int64_t n) {
  GeneMeanVar s{std::move(sum), std::move(sq_dev)};
  for (size_t g = 0; g < s.var.size(); ++g) s.var[g] = n > 1 ? s.var[g] / double(n - 1) : NAN;
  return s;
}

}  // namespace

GeneMeanVar gene_mean_var(const CsrMatrix& x, bool expm1_first) {
  if (x.rows == 0) throw DataError("gene_mean_var: matrix has no cells");
  const auto G = static_cast<size_t>(x.cols);
  std::vector<double> mean(G, 0.0), sq(G, 0.0);
  std::vector<int64_t> nnz(G, 0);
  auto val = [&](int64_t p) { return expm1_first ? std::expm1(double(x.data[p])) : double(x.data[p]); };
  for (int64_t p = 0; p < x.nnz(); ++p) mean[x.indices[p]] += val(p);
  for (size_t g = 0; g < G; ++g) mean[g] /= double(x.rows);
  for (int64_t p = 0; p < x.nnz(); ++p) {
    const double d = val(p) - mean[x.indices[p]];
    sq[x.indices[p]] += d * d;
    ++nnz[x.indices[p]];
  }
  // The implicit zeros contribute (0 - mean)^2 each.
  for (size_t g = 0; g < G; ++g) sq[g] += double(x.rows - nnz[g]) * mean[g] * mean[g];
  return finish(std::move(mean), std::move(sq), x.rows);
}

GeneMeanVar gene_mean_var(const DenseMatrix& x, bool expm1_first) {
  if (x.rows() == 0) throw DataError("gene_mean_var: matrix has no cells");
  const auto G = static_cast<size_t>(x.cols());
  std::vector<double> mean(G, 0.0), sq(G, 0.0);
  auto val = [&](Eigen::Index r, Eigen::Index c) {
    return expm1_first ? std::expm1(double(x(r, c))) : double(x(r, c));
  };
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    for (Eigen::Index c = 0; c < x.cols(); ++c) mean[c] += val(r, c);
  for (size_t g = 0; g < G; ++g) mean[g] /= double(x.rows());
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      const double d = val(r, c) - mean[c];
      sq[c] += d * d;
    }
  return finish(std::move(mean), std::move(sq), x.rows());
}

std::vector<double> column_means(const DenseMatrix& x) {
  if (x.rows() == 0) throw DataError("column_means: matrix has no cells");
  std::vector<double> m(static_cast<size_t>(x.cols()), 0.0);
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    for (Eigen::Index c = 0; c < x.cols(); ++c) m[c] += x(r, c);
  for (auto& v : m) v /= double(x.rows());
  return m;
}

std::vector<double> column_means(const CsrMatrix& x) {
  if (x.rows == 0) throw DataError("column_means: matrix has no cells");
  std::vector<double> m(static_cast<size_t>(x.cols), 0.0);
  for (int64_t p = 0; p < x.nnz(); ++p) m[x.indices[p]] += x.data[p];
  for (auto& v : m) v /= double(x.rows);
  return m;
}

}  // namespace cg::omics
