// nn::mmd_rbf: value against numpy, gradients by finite differences, the default (median)
// bandwidths, basic properties and bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "nn/losses.h"
#include "tests/op_check.h"

using namespace cg;

namespace {
// X[i, j] = sin(1.3 i + 0.7 j) (6 x 3), Y[i, j] = 0.3 cos(0.9 i - 0.4 j) + 1 (5 x 3).
Tensor sample_x(bool grad = false) {
  std::vector<double> v;
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 3; ++j) v.push_back(std::sin(1.3 * i + 0.7 * j));
  Tensor t = Tensor::from_vector(v, {6, 3});
  if (grad) t.set_requires_grad(true);
  return t;
}
Tensor sample_y(bool grad = false) {
  std::vector<double> v;
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 3; ++j) v.push_back(0.3 * std::cos(0.9 * i - 0.4 * j) + 1.0);
  Tensor t = Tensor::from_vector(v, {5, 3});
  if (grad) t.set_requires_grad(true);
  return t;
}
}  // namespace

TEST_CASE("mmd_rbf: values match numpy (unbiased, sum of RBF kernels, median bandwidths)") {
  // Reference from /usr/bin/python3 (numpy):
  //   import numpy as np
  //   n, m, d = 6, 5, 3
  //   X = np.array([[np.sin(1.3 * i + 0.7 * j) for j in range(d)] for i in range(n)])
  //   Y = np.array([[0.3 * np.cos(0.9 * i - 0.4 * j) + 1.0 for j in range(d)] for i in range(m)])
  //   def k(A, B, s):
  //       D2 = ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)
  //       return sum(np.exp(-D2 / (2 * b * b)) for b in s)
  //   def mmd(s):
  //       kxx, kyy, kxy = k(X, X, s), k(Y, Y, s), k(X, Y, s)
  //       return ((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
  //               - 2 * kxy.mean())
  //   Z = np.vstack([X, Y]); D = np.sqrt(((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1))
  //   med = np.median(D[np.triu_indices(len(Z), 1)])
  //   print(repr(med), repr(mmd([1.0])), repr(mmd([0.5, 2.0])), repr(mmd([med * f for f in (0.25, 0.5, 1, 2, 4)])))
  const Tensor X = sample_x(), Y = sample_y();
  CHECK(nn::mmd_rbf(X, Y, {1.0}).item() == doctest::Approx(0.38717793280510393).epsilon(1e-12));
  CHECK(nn::mmd_rbf(X, Y, {0.5, 2.0}).item() == doctest::Approx(0.6371741339607395).epsilon(1e-12));
  const std::vector<double> bw = nn::mmd_median_bandwidths(X, Y);
  REQUIRE(bw.size() == 5);
  CHECK(bw[2] == doctest::Approx(1.3743998001185886).epsilon(1e-12));
  CHECK(bw[0] == doctest::Approx(0.25 * 1.3743998001185886).epsilon(1e-12));
  CHECK(nn::mmd_rbf(X, Y).item() == doctest::Approx(1.310193323558611).epsilon(1e-12));
  // float32 agrees to float precision.
  CHECK(nn::mmd_rbf(X.to(DType::F32), Y.to(DType::F32)).item() == doctest::Approx(1.310193323558611).epsilon(1e-5));
}

TEST_CASE("mmd_rbf: symmetric, 0 in expectation for one distribution, larger for a shifted one") {
  const Tensor X = sample_x(), Y = sample_y();
  CHECK(nn::mmd_rbf(X, Y, {1.0}).item() == doctest::Approx(nn::mmd_rbf(Y, X, {1.0}).item()).epsilon(1e-12));
  Generator gen(3);
  const Tensor a = gen.normal({200, 2}, Device::CPU, DType::F64), b = gen.normal({200, 2}, Device::CPU, DType::F64);
  const double same = nn::mmd_rbf(a, b, {1.0}).item();
  const double shifted = nn::mmd_rbf(a, add_scalar(b, 1.0), {1.0}).item();
  CHECK(std::abs(same) < 0.02);
  CHECK(shifted > 0.2);
}

TEST_CASE("mmd_rbf: gradients w.r.t. both samples (float64 finite differences)") {
  const std::vector<Tensor> xy{sample_x(true), sample_y(true)};
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return nn::mmd_rbf(in[0], in[1], {0.7, 1.5}); }, xy);
  const std::vector<Tensor> ab{cg::test::random_input({4, 2}, 5), cg::test::random_input({3, 2}, 6)};
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return nn::mmd_rbf(in[0], in[1], {0.9}); }, ab);
}

TEST_CASE("mmd_rbf: CUDA parity") {
  cg::test::check_cuda_parity("mmd_rbf", [](const std::vector<Tensor>& in) { return nn::mmd_rbf(in[0], in[1], {0.5, 2.0}); },
                              {cg::test::random_input({7, 3}, 7), cg::test::random_input({5, 3}, 8)});
}

TEST_CASE("mmd_rbf: bad input throws saying what was expected and found") {
  const Tensor X = sample_x(), Y = sample_y();
  CHECK_THROWS_WITH_AS(nn::mmd_rbf(X, Tensor::ones({5, 4}, DType::F64)), doctest::Contains("same positive number of columns"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(nn::mmd_rbf(X, Tensor::ones({1, 3}, DType::F64)), doctest::Contains("at least 2 rows"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(nn::mmd_rbf(X, Y, {1.0, -2.0}), doctest::Contains("bandwidths must be positive"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::mmd_rbf(X, Y.to(DType::F32)), doctest::Contains("mmd_rbf"), cg::Error);
}
