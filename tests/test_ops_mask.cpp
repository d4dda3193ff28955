// dropout, masked_fill, where: forward values, finite-difference backwards, dropout statistics
// and determinism, error messages, CUDA parity (dropout masks bit-identical across devices).
#include <doctest/doctest.h>

#include <cmath>

#include "tests/op_check.h"

using namespace cg;
using cg::test::check_cuda_parity;
using cg::test::random_input;

namespace {
using V = std::vector<double>;
Tensor mat(V v, Shape s) { return Tensor::from_vector(v, s); }
}  // namespace

TEST_CASE("dropout: identity when not training or p == 0, and p outside [0, 1) throws") {
  Generator gen(1);
  Tensor x = random_input({4, 5}, 1);
  CHECK(dropout(x, 0.5, false, gen).raw_data() == x.raw_data());
  CHECK(dropout(x, 0.0, true, gen).raw_data() == x.raw_data());
  CHECK(gen.offset() == 0);  // the identity path draws nothing
  CHECK_THROWS_WITH_AS(dropout(x, 1.0, true, gen), doctest::Contains("dropout"), cg::Error);
  CHECK_THROWS_WITH_AS(dropout(x, 1.0, false, gen), doctest::Contains("[0, 1)"), cg::Error);
  CHECK_THROWS_AS(dropout(x, -0.1, true, gen), cg::Error);
}

TEST_CASE("dropout: the mask is Generator::bernoulli's, kept values are scaled by 1/(1-p)") {
  const double p = 0.25;
  Generator g1(42, 3), g2(42, 3);
  Tensor x = random_input({7, 9}, 2, 1.0, 0.5, false);  // |x| >= 0.5, so a zero output means dropped
  const auto y = dropout(x, p, true, g1).to_vector<double>();
  const auto dropped = g2.bernoulli({7, 9}, p, Device::CPU, DType::F64).to_vector<double>();
  const auto xv = x.to_vector<double>();
  CHECK(g1.offset() == g2.offset());
  CHECK(g1.offset() == (63 + 3) / 4);  // one counter block per four elements
  int kept = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    INFO("element " << i);
    if (dropped[i] != 0) CHECK(y[i] == 0.0);
    else CHECK(y[i] == doctest::Approx(xv[i] / (1 - p)).epsilon(1e-15));
    kept += dropped[i] == 0;
  }
  CHECK(kept > 0);
  CHECK(kept < 63);
  // float32 and float64 draw the same mask from the same state.
  Generator g3(42, 3);
  const auto y32 = dropout(x.to(DType::F32), p, true, g3).to_vector<double>();
  for (size_t i = 0; i < y.size(); ++i) CHECK((y32[i] == 0) == (y[i] == 0));
}

TEST_CASE("dropout: fraction kept and mean on 100k elements; seeds and offsets") {
  const double p = 0.3;
  const Shape shape{400, 250};
  Generator gen(123);
  Tensor y = dropout(Tensor::ones(shape), p, true, gen);
  const auto v = y.to_vector<double>();
  double kept = 0, total = 0;
  bool values_ok = true;
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  for (double e : v) {
    kept += e != 0;
    total += e;
    values_ok = values_ok && (e == 0 || e == scale);
  }
  CHECK(values_ok);
  // Standard errors: kept fraction sqrt(p(1-p)/n) ~ 0.0015, mean sqrt(p/(1-p)/n) ~ 0.002.
  CHECK(kept / v.size() == doctest::Approx(1 - p).epsilon(0.01 / (1 - p)));
  CHECK(total / v.size() == doctest::Approx(1.0).epsilon(0.01));

  // Same seed and offset -> same mask; the next call (advanced offset) and another seed differ.
  Generator same(123);
  CHECK(dropout(Tensor::ones(shape), p, true, same).to_vector<double>() == v);
  CHECK(dropout(Tensor::ones(shape), p, true, same).to_vector<double>() != v);
  Generator other(124);
  CHECK(dropout(Tensor::ones(shape), p, true, other).to_vector<double>() != v);
  Generator replay(0);
  replay.set_state(123, 0);
  CHECK(dropout(Tensor::ones(shape), p, true, replay).to_vector<double>() == v);
}

TEST_CASE("dropout: backward multiplies by the same mask") {
  // A fresh Generator inside the function: every evaluation of the gradient check uses the same mask.
  CHECK_GRADIENTS(
      [](const std::vector<Tensor>& in) {
        Generator gen(9);
        return dropout(in[0], 0.4, true, gen);
      },
      std::vector<Tensor>{random_input({6, 7}, 3)});
  CHECK_GRADIENTS(
      [](const std::vector<Tensor>& in) {
        Generator gen(10);
        return mul(dropout(in[0], 0.5, true, gen), in[0]);
      },
      std::vector<Tensor>{random_input({3, 4, 5}, 4)});
  Tensor x = Tensor::ones({10, 10}, DType::F64).set_requires_grad(true);
  Generator gen(11);
  Tensor y = dropout(x, 0.5, true, gen);
  sum(y).backward();
  CHECK(x.grad().to_vector<double>() == y.to_vector<double>());  // d(sum)/dx = mask = y for x = 1
}

TEST_CASE("masked_fill: full, row, column and scalar masks") {
  Tensor x = mat({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(masked_fill(x, mat({1, 0, 0, 0, 1, 0}, {2, 3}), -9).to_vector<double>() == V{-9, 2, 3, 4, -9, 6});
  CHECK(masked_fill(x, mat({0, 1, 1}, {3}), 0).to_vector<double>() == V{1, 0, 0, 4, 0, 0});
  CHECK(masked_fill(x, mat({0, 0, 1}, {1, 3}), 7).to_vector<double>() == V{1, 2, 7, 4, 5, 7});
  CHECK(masked_fill(x, mat({1, 0}, {2, 1}), -1).to_vector<double>() == V{-1, -1, -1, 4, 5, 6});
  CHECK(masked_fill(x, mat({1}, {1}), 0.5).to_vector<double>() == V{0.5, 0.5, 0.5, 0.5, 0.5, 0.5});
  // -inf is a legal fill (attention masks).
  CHECK(std::isinf(masked_fill(x, mat({1, 0}, {2, 1}), -INFINITY).to_vector<double>()[0]));

  Tensor full_mask = mat({1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 0}, {3, 4});
  CHECK_GRADIENTS([full_mask](const std::vector<Tensor>& in) { return masked_fill(in[0], full_mask, 3.0); },
                  std::vector<Tensor>{random_input({3, 4}, 5)});
  Tensor row_mask = mat({0, 1, 0, 1}, {4});
  CHECK_GRADIENTS([row_mask](const std::vector<Tensor>& in) { return masked_fill(in[0], row_mask, -2.0); },
                  std::vector<Tensor>{random_input({3, 4}, 6)});
  Tensor col_mask = mat({0, 1, 1}, {3, 1});
  CHECK_GRADIENTS([col_mask](const std::vector<Tensor>& in) { return masked_fill(in[0], col_mask, 0.0); },
                  std::vector<Tensor>{random_input({3, 4}, 7)});
  Tensor y = Tensor::ones({2, 3}, DType::F64).set_requires_grad(true);
  sum(masked_fill(y, mat({0, 1, 0}, {3}), 5)).backward();
  CHECK(y.grad().to_vector<double>() == V{1, 0, 1, 1, 0, 1});
}

TEST_CASE("masked_fill and where: wrong shapes name the op and the shapes") {
  Tensor x = Tensor::ones({2, 3});
  CHECK_THROWS_WITH_AS(masked_fill(x, Tensor::ones({3, 2}), 0), doctest::Contains("masked_fill"), cg::Error);
  CHECK_THROWS_WITH_AS(masked_fill(x, Tensor::ones({3, 2}), 0), doctest::Contains("[3, 2]"), cg::Error);
  CHECK_THROWS_WITH_AS(masked_fill(x, Tensor::ones({2}), 0), doctest::Contains("[2, 3]"), cg::Error);
  CHECK_THROWS_AS(masked_fill(x, Tensor::from_indices({1, 0, 1}), 0), cg::Error);  // int32 mask
  CHECK_THROWS_WITH_AS(where(Tensor::ones({3, 2}), x, x), doctest::Contains("where"), cg::Error);
  CHECK_THROWS_WITH_AS(where(Tensor::ones({3, 2}), x, x), doctest::Contains("[3, 2]"), cg::Error);
  CHECK_THROWS_WITH_AS(where(Tensor::ones({2, 3}), x, Tensor::ones({3})), doctest::Contains("[3]"), cg::Error);
}

TEST_CASE("where: forward values and backward") {
  Tensor c = mat({1, 0, 0, 1}, {2, 2}), a = mat({1, 2, 3, 4}, {2, 2}), b = mat({-1, -2, -3, -4}, {2, 2});
  CHECK(where(c, a, b).to_vector<double>() == V{1, -2, -3, 4});
  Tensor cond = mat({1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1}, {3, 4});
  CHECK_GRADIENTS([cond](const std::vector<Tensor>& in) { return where(cond, in[0], in[1]); },
                  (std::vector<Tensor>{random_input({3, 4}, 8), random_input({3, 4}, 9)}));
  // Only one branch requiring a gradient.
  Tensor fixed = random_input({3, 4}, 10, 1.0, 0.0, false);
  CHECK_GRADIENTS(([cond, fixed](const std::vector<Tensor>& in) { return where(cond, fixed, square(in[0])); }),
                  std::vector<Tensor>{random_input({3, 4}, 11)});
}

TEST_CASE("mask ops: CUDA matches the CPU; dropout masks are identical") {
  check_cuda_parity("dropout",
                    [](const std::vector<Tensor>& in) {
                      Generator gen(77, 5);
                      return dropout(in[0], 0.3, true, gen);
                    },
                    {random_input({129, 301}, 20)});
  Tensor mask = Generator(3).bernoulli({129, 300}, 0.5, Device::CPU, DType::F64);
  check_cuda_parity("masked_fill full", [](const std::vector<Tensor>& in) { return masked_fill(in[0], in[1], -1.5); },
                    {random_input({129, 300}, 21), mask});
  check_cuda_parity("masked_fill row", [](const std::vector<Tensor>& in) { return masked_fill(in[0], in[1], 2.0); },
                    {random_input({129, 300}, 22), Generator(4).bernoulli({300}, 0.5, Device::CPU, DType::F64)});
  check_cuda_parity("masked_fill column", [](const std::vector<Tensor>& in) { return masked_fill(in[0], in[1], 0.0); },
                    {random_input({129, 300}, 23), Generator(5).bernoulli({129, 1}, 0.5, Device::CPU, DType::F64)});
  check_cuda_parity("where", [](const std::vector<Tensor>& in) { return where(in[0], in[1], in[2]); },
                    {mask, random_input({129, 300}, 24), random_input({129, 300}, 25)});
  if (cg::test::cuda_ready("dropout mask bitwise")) {
    // Bitwise: the keep decision and the float scale are computed identically on both devices.
    for (uint64_t seed : {0ull, 1ull, 0xdeadbeefcafeull}) {
      Generator gc(seed, 2), gg(seed, 2);
      gc.reserve(13);
      gg.reserve(13);  // a non-zero starting offset
      const auto cpu = dropout(Tensor::ones({1000, 77}), 0.37, true, gc).to_vector<float>();
      const auto gpu = dropout(Tensor::ones({1000, 77}, DType::F32, Device::CUDA), 0.37, true, gg).to_vector<float>();
      CHECK(cpu == gpu);
      CHECK(gc.offset() == gg.offset());
    }
  }
}
