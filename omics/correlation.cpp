#include "omics/correlation.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "omics/error.h"

namespace cg::omics {

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size())
    throw DataError("pearson: vectors differ in length (" + std::to_string(a.size()) + " vs " +
                    std::to_string(b.size()) + ")");
  if (a.size() < 2) throw DataError("pearson: need at least 2 values");
  const double n = double(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n;
  const double mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double da = a[i] - ma, db = b[i] - mb;
    sab += da * db, saa += da * da, sbb += db * db;
  }
  if (saa == 0 || sbb == 0) return NAN;
  return std::clamp(sab / std::sqrt(saa * sbb), -1.0, 1.0);
}

std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t x, size_t y) { return v[x] < v[y]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    const double avg = 0.5 * double(i + j) + 1.0;  // ranks i+1 .. j+1
    for (size_t k = i; k <= j; ++k) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  return pearson(average_ranks(a), average_ranks(b));
}

DenseMatrixD spearman_rows(const DenseMatrix& x) {
  const Eigen::Index n = x.rows(), g = x.cols();
  if (g < 2) throw DataError("spearman_rows: need at least 2 features per cell");
  // Rank each row, center and scale it to unit norm: the correlation is then a dot product.
  DenseMatrixD z(n, g);
  for (Eigen::Index r = 0; r < n; ++r) {
    std::vector<double> row(static_cast<size_t>(g));
    for (Eigen::Index c = 0; c < g; ++c) row[c] = x(r, c);
    const auto rk = average_ranks(row);
    const double mean = (double(g) + 1.0) / 2.0;
    double ss = 0;
    for (Eigen::Index c = 0; c < g; ++c) ss += (rk[c] - mean) * (rk[c] - mean);
    const double inv = ss > 0 ? 1.0 / std::sqrt(ss) : NAN;  // a constant cell has no ranking
    for (Eigen::Index c = 0; c < g; ++c) z(r, c) = (rk[c] - mean) * inv;
  }
  DenseMatrixD out = z * z.transpose();
  for (Eigen::Index i = 0; i < out.size(); ++i)  // rounding can step past +-1; NaN stays NaN
    if (std::abs(out.data()[i]) > 1.0) out.data()[i] = out.data()[i] > 0 ? 1.0 : -1.0;
  return out;
}

}  // namespace cg::omics
