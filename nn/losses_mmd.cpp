// mmd_rbf: unbiased squared MMD with a sum of RBF kernels, from ordinary differentiable ops
// (squared distances by |a|^2 + |b|^2 - 2 a.b, an exp per bandwidth, constant off-diagonal
// masks), so it runs on either device and its gradient needs no kernel of its own.
#include <algorithm>
#include <cmath>

#include "autograd/engine.h"
#include "autograd/error.h"
#include "autograd/ops.h"
#include "nn/losses_internal.h"

namespace cg::nn {
namespace {

// |a_i - b_j|^2 for all pairs, [rows(a), rows(b)]; relu removes the tiny negative values that
// cancellation leaves for (near) equal rows.
Tensor squared_distances(const Tensor& a, const Tensor& b) {
  const Tensor aa = sum_rows(square(a));                                   // [n, 1]
  const Tensor bb = reshape(sum_rows(square(b)), {1, b.dim(0)});           // [1, m]
  return relu(add(add(mul_scalar(matmul(a, b, false, true), -2.0), aa), bb));
}

Tensor kernel_sum(const Tensor& d2, const std::vector<double>& bandwidths) {
  Tensor k;
  for (double s : bandwidths) {
    const Tensor term = exp(mul_scalar(d2, -1.0 / (2.0 * s * s)));
    k = k.defined() ? add(k, term) : term;
  }
  return k;
}

// Sum of the off-diagonal entries of a square kernel matrix.
Tensor off_diagonal_sum(const Tensor& k) {
  const int64_t n = k.dim(0);
  std::vector<double> mask(static_cast<size_t>(n * n), 1.0);
  for (int64_t i = 0; i < n; ++i) mask[static_cast<size_t>(i * n + i)] = 0.0;
  return sum(mul(k, detail::constant_like(mask, {n, n}, k)));
}

void check_samples(const char* name, const Tensor& X, const Tensor& Y) {
  detail::check_compatible(name, "X", X, "Y", Y);
  detail::check_rank(name, "X", X, 2);
  detail::check_rank(name, "Y", Y, 2);
  CG_CHECK(X.dim(1) == Y.dim(1) && X.dim(1) > 0,
           "loss '" << name << "': X and Y must have the same positive number of columns, found " << X.describe()
                    << " and " << Y.describe());
  CG_CHECK(X.dim(0) >= 2 && Y.dim(0) >= 2, "loss '" << name << "': the unbiased estimator needs at least 2 rows in "
                                                    << "each sample, found " << X.describe() << " and "
                                                    << Y.describe());
}

}  // namespace

std::vector<double> mmd_median_bandwidths(const Tensor& X, const Tensor& Y, const std::vector<double>& multiples) {
  check_samples("mmd_rbf", X, Y);
  CG_CHECK(!multiples.empty(), "loss 'mmd_rbf': expected at least one bandwidth multiple, found none");
  const std::vector<double> x = X.to_vector<double>(), y = Y.to_vector<double>();
  const int64_t n = X.dim(0), m = Y.dim(0), d = X.dim(1), rows = n + m;
  auto row = [&](int64_t i) { return i < n ? &x[static_cast<size_t>(i * d)] : &y[static_cast<size_t>((i - n) * d)]; };
  std::vector<double> dist;
  dist.reserve(static_cast<size_t>(rows * (rows - 1) / 2));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = i + 1; j < rows; ++j) {
      const double *a = row(i), *b = row(j);
      double s = 0;
      for (int64_t c = 0; c < d; ++c) s += (a[c] - b[c]) * (a[c] - b[c]);
      dist.push_back(std::sqrt(s));
    }
  // numpy.median: the middle value, or the mean of the two middle ones.
  const size_t half = dist.size() / 2;
  std::nth_element(dist.begin(), dist.begin() + static_cast<std::ptrdiff_t>(half), dist.end());
  double median = dist[half];
  if (dist.size() % 2 == 0) median = 0.5 * (median + *std::max_element(dist.begin(), dist.begin() + half));
  CG_CHECK(std::isfinite(median), "loss 'mmd_rbf': the samples hold non-finite values");
  if (!(median > 0)) median = 1.0;
  std::vector<double> out;
  for (double k : multiples) {
    CG_CHECK(k > 0 && std::isfinite(k), "loss 'mmd_rbf': bandwidth multiples must be positive, found " << k);
    out.push_back(k * median);
  }
  return out;
}

Tensor mmd_rbf(const Tensor& X, const Tensor& Y, const std::vector<double>& bandwidths) {
  const char* name = "mmd_rbf";
  check_samples(name, X, Y);
  std::vector<double> sigmas = bandwidths;
  if (sigmas.empty()) sigmas = mmd_median_bandwidths(X, Y);
  for (double s : sigmas)
    CG_CHECK(s > 0 && std::isfinite(s), "loss '" << name << "': bandwidths must be positive and finite, found " << s);
  const double n = static_cast<double>(X.dim(0)), m = static_cast<double>(Y.dim(0));
  const Tensor kxx = off_diagonal_sum(kernel_sum(squared_distances(X, X), sigmas));
  const Tensor kyy = off_diagonal_sum(kernel_sum(squared_distances(Y, Y), sigmas));
  const Tensor kxy = sum(kernel_sum(squared_distances(X, Y), sigmas));
  return add(add(mul_scalar(kxx, 1.0 / (n * (n - 1))), mul_scalar(kyy, 1.0 / (m * (m - 1)))),
             mul_scalar(kxy, -2.0 / (n * m)));
}

}  // namespace cg::nn
