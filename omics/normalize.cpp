#include "omics/normalize.h"

#include <algorithm>
#include <cmath>

#include "omics/counts_check.h"
#include "omics/error.h"
#include "omics/gene_stats.h"

namespace cg::omics {
namespace {

double median_of_nonzero(std::vector<double> v) {
  v.erase(std::remove(v.begin(), v.end(), 0.0), v.end());
  if (v.empty()) throw DataError("normalize_total: every cell has a total count of 0");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);  // numpy's median
}

// Per-cell factor target / total; a zero total keeps factor target / 1 on an all-zero row.
std::vector<double> factors(const std::vector<double>& totals, std::optional<double> target) {
  const double t = target ? *target : median_of_nonzero(totals);
  if (!(t > 0) || !std::isfinite(t))
    throw DataError("normalize_total: target sum must be positive and finite, got " + std::to_string(t));
  std::vector<double> f(totals.size());
  for (size_t i = 0; i < totals.size(); ++i) f[i] = t / (totals[i] == 0 ? 1.0 : totals[i]);
  return f;
}

}  // namespace

std::vector<double> normalize_total(CsrMatrix& x, std::optional<double> target_sum, std::string_view name) {
  require_counts(x, name);
  std::vector<double> totals(static_cast<size_t>(x.rows), 0.0);
  for (int64_t r = 0; r < x.rows; ++r)
    for (int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) totals[r] += x.data[p];
  const auto f = factors(totals, target_sum);
  for (int64_t r = 0; r < x.rows; ++r)
    for (int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) x.data[p] = static_cast<float>(double(x.data[p]) * f[r]);
  return totals;
}

std::vector<double> normalize_total(DenseMatrix& x, std::optional<double> target_sum, std::string_view name) {
  require_counts(x, name);
  std::vector<double> totals(static_cast<size_t>(x.rows()), 0.0);
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    for (Eigen::Index c = 0; c < x.cols(); ++c) totals[r] += x(r, c);
  const auto f = factors(totals, target_sum);
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    for (Eigen::Index c = 0; c < x.cols(); ++c) x(r, c) = static_cast<float>(double(x(r, c)) * f[r]);
  return totals;
}

void log1p_inplace(CsrMatrix& x, std::optional<double> base) {
  const double div = base ? std::log(*base) : 1.0;
  for (auto& v : x.data) v = static_cast<float>(std::log1p(double(v)) / div);
}

void log1p_inplace(DenseMatrix& x, std::optional<double> base) {
  const double div = base ? std::log(*base) : 1.0;
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(std::log1p(double(x.data()[i])) / div);
}

Scaled scale(const DenseMatrix& x, const ScaleOptions& opt) {
  if (x.rows() < 2) throw DataError("scale: need at least 2 cells to estimate a variance");
  auto mv = gene_mean_var(x);
  Scaled s{DenseMatrix(x.rows(), x.cols()), std::move(mv.mean), {}};
  s.std.resize(mv.var.size());
  for (size_t g = 0; g < mv.var.size(); ++g) {
    const double sd = std::sqrt(mv.var[g]);
    s.std[g] = sd == 0 ? 1.0 : sd;
  }
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      double v = (double(x(r, c)) - (opt.zero_center ? s.mean[c] : 0.0)) / s.std[c];
      if (opt.max_value) {
        v = std::min(v, *opt.max_value);
        if (opt.zero_center) v = std::max(v, -*opt.max_value);
      }
      s.x(r, c) = static_cast<float>(v);
    }
  return s;
}

Scaled scale(const CsrMatrix& x, const ScaleOptions& opt) { return scale(x.to_dense(), opt); }

}  // namespace cg::omics
