// softmax_rows, log_softmax_rows, layer_norm, batch_norm (training, running statistics, eval),
// l2_normalize_rows: hand-computed forward values, gradients against finite differences for
// every differentiable input, CUDA parity, and argument errors.
#include <doctest/doctest.h>

#include <cmath>

#include "tests/op_check.h"

using namespace cg;
using cg::test::positive_input;
using cg::test::random_input;

namespace {
Tensor vec(std::vector<double> v, const Shape& shape) { return Tensor::from_vector(v, shape); }

void check_values(const Tensor& t, const std::vector<double>& expected, double eps = 1e-9) {
  const auto got = t.to_vector<double>();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(got[i] == doctest::Approx(expected[i]).epsilon(eps));
  }
}
}  // namespace

// ---- softmax -------------------------------------------------------------------------------------

TEST_CASE("softmax_rows / log_softmax_rows: hand-computed values, max-shift stability") {
  // e^1, e^2, e^3 over their sum 30.19287485...
  check_values(softmax_rows(vec({1, 2, 3}, {1, 3})), {0.09003057317038046, 0.24472847105479764, 0.6652409557748219});
  check_values(log_softmax_rows(vec({1, 2, 3}, {1, 3})),
               {-2.4076059644443806, -1.4076059644443806, -0.4076059644443806});
  // Rank 1 is one row; rank 3 normalises each last-dim row independently.
  check_values(softmax_rows(vec({0, 0}, {2})), {0.5, 0.5});
  Tensor r3 = softmax_rows(vec({1, 2, 3, 0, 0, 0, 5, 5, 5, -1, 0, 1}, {2, 2, 3}));
  CHECK(r3.shape() == Shape{2, 2, 3});
  check_values(r3, {0.0900305731703804, 0.244728471054797, 0.665240955774821, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3,
                    1.0 / 3, 1.0 / 3, 0.0900305731703804, 0.244728471054797, 0.665240955774821});
  // Without the max shift exp(1000) overflows to inf and the result is NaN.
  check_values(softmax_rows(vec({1000, 1001, 1002}, {1, 3})),
               {0.09003057317038046, 0.24472847105479764, 0.6652409557748219});
  check_values(log_softmax_rows(vec({-1000, 0}, {1, 2})), {-1000, 0});
  Tensor f32 = softmax_rows(Tensor::from_vector(std::vector<float>{1000, 1001, 1002}, {1, 3}));
  CHECK(f32.dtype() == DType::F32);
  check_values(f32, {0.09003057317038046, 0.24472847105479764, 0.6652409557748219}, 1e-6);
}

TEST_CASE("softmax_rows / log_softmax_rows: backward matches finite differences") {
  for (const Shape& sh : {Shape{4, 6}, Shape{2, 3, 5}, Shape{7}, Shape{3, 1}}) {
    INFO("shape " << shape_str(sh));
    CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return softmax_rows(in[0]); },
                    std::vector<Tensor>{random_input(sh, 101, 2.0)});
    CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return log_softmax_rows(in[0]); },
                    std::vector<Tensor>{random_input(sh, 102, 2.0)});
  }
  // Composed with other ops (the gradient flows through a non-leaf input).
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return softmax_rows(mul(in[0], in[1])); },
                  (std::vector<Tensor>{random_input({3, 4}, 103), random_input({3, 4}, 104)}));
}

// ---- layer norm ------------------------------------------------------------------------------------

TEST_CASE("layer_norm: hand-computed values with and without the affine part") {
  // Row 0: mean 2, biased var 2/3 -> xhat = [-sqrt(1.5), 0, sqrt(1.5)].
  // Row 1: mean 1, deviations [-1, -1, 2], biased var 2 -> xhat = [-1, -1, 2] / sqrt(2).
  Tensor x = vec({1, 2, 3, 0, 0, 3}, {2, 3});
  const double a = std::sqrt(1.5), h = 1 / std::sqrt(2.0);
  check_values(layer_norm(x, Tensor(), Tensor(), 0.0), {-a, 0, a, -h, -h, 2 * h});
  Tensor gamma = vec({1, 0.5, 2}, {3}), beta = vec({0, 1, -1}, {3});
  check_values(layer_norm(x, gamma, beta, 0.0), {-a, 1, 2 * a - 1, -h, 1 - 0.5 * h, 4 * h - 1});
  // eps enters as 1/sqrt(var + eps).
  check_values(layer_norm(x, Tensor(), Tensor(), 0.5), {-1 / std::sqrt(2.0 / 3 + 0.5), 0, 1 / std::sqrt(2.0 / 3 + 0.5),
                                                        -1 / std::sqrt(2.5), -1 / std::sqrt(2.5), 2 / std::sqrt(2.5)});
  // A large common offset must not destroy the variance (two-pass statistics, not E[x^2]-E[x]^2).
  Tensor shifted = Tensor::from_vector(std::vector<float>{1e4f + 1, 1e4f + 2, 1e4f + 3}, {1, 3});
  check_values(layer_norm(shifted, Tensor(), Tensor(), 0.0), {-a, 0, a}, 1e-5);
}

TEST_CASE("layer_norm: backward matches finite differences for x, gamma and beta") {
  uint64_t seed = 200;
  for (const Shape& sh : {Shape{4, 6}, Shape{2, 3, 5}, Shape{5}}) {
    INFO("shape " << shape_str(sh));
    const int64_t cols = sh.back();
    CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], in[2]); },
                    (std::vector<Tensor>{random_input(sh, seed, 1.5, 0.3), random_input({cols}, seed + 1),
                                         random_input({cols}, seed + 2)}));
    CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return layer_norm(in[0], Tensor(), Tensor()); },
                    std::vector<Tensor>{random_input(sh, seed + 3)});
    // gamma only, beta only.
    CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], Tensor()); },
                    (std::vector<Tensor>{random_input(sh, seed + 4), random_input({cols}, seed + 5)}));
    CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return layer_norm(in[0], Tensor(), in[1]); },
                    (std::vector<Tensor>{random_input(sh, seed + 6), random_input({cols}, seed + 7)}));
    seed += 10;
  }
  // Only gamma/beta require gradients (x is data): x gets none, gamma/beta are still right.
  Tensor x = random_input({4, 3}, 230, 1.0, 0.0, false);
  CHECK_GRADIENTS([x](const std::vector<Tensor>& in) { return layer_norm(x, in[0], in[1]); },
                  (std::vector<Tensor>{random_input({3}, 231), random_input({3}, 232)}));
}

// ---- batch norm ------------------------------------------------------------------------------------

TEST_CASE("batch_norm: training values, running-statistics update, eval values") {
  // Column 0: mean 2, biased var 2/3 (unbiased 1). Column 1: mean 30, deviations [-20, -10, 30],
  // biased var 1400/3 (unbiased 700).
  Tensor x = vec({1, 10, 2, 20, 3, 60}, {3, 2});
  Tensor gamma = vec({2, 1}, {2}), beta = vec({0, 0.5}, {2});
  Tensor rm = vec({0, 0}, {2}), rv = vec({1, 1}, {2});
  const double a = std::sqrt(1.5), s1 = std::sqrt(1400.0 / 3);
  Tensor y = batch_norm(x, gamma, beta, rm, rv, true, 0.1, 0.0);
  check_values(y, {-2 * a, -20 / s1 + 0.5, 0, -10 / s1 + 0.5, 2 * a, 30 / s1 + 0.5});
  // running = 0.9 * running + 0.1 * batch, with the unbiased variance.
  check_values(rm, {0.2, 3.0});
  check_values(rv, {0.9 * 1 + 0.1 * 1, 0.9 * 1 + 0.1 * 700});
  // A second step compounds.
  batch_norm(x, gamma, beta, rm, rv, true, 0.1, 0.0);
  check_values(rm, {0.9 * 0.2 + 0.1 * 2, 0.9 * 3 + 0.1 * 30});
  check_values(rv, {1.0, 0.9 * 70.9 + 0.1 * 700});

  // Without affine part or running buffers: each column has mean 0 and biased variance 1.
  Tensor big = random_input({50, 3}, 300, 3.0, 1.0, false);
  const auto z = batch_norm(big, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 0.0).to_vector<double>();
  for (int j = 0; j < 3; ++j) {
    double m = 0, v = 0;
    for (int r = 0; r < 50; ++r) m += z[r * 3 + j] / 50;
    for (int r = 0; r < 50; ++r) v += (z[r * 3 + j] - m) * (z[r * 3 + j] - m) / 50;
    CHECK(m == doctest::Approx(0).epsilon(1e-12).scale(1));
    CHECK(v == doctest::Approx(1).epsilon(1e-12));
  }

  // Eval: (x - running_mean) / sqrt(running_var + eps) * gamma + beta, buffers untouched.
  Tensor erm = vec({1, 2}, {2}), erv = vec({4, 9}, {2});
  check_values(batch_norm(x, gamma, beta, erm, erv, false, 0.1, 0.0),
               {0, 8.0 / 3 + 0.5, 1, 18.0 / 3 + 0.5, 2, 58.0 / 3 + 0.5});
  check_values(erm, {1, 2});
  check_values(erv, {4, 9});
  // Eval works for a single row (no batch statistics needed); eps is added to the variance.
  check_values(batch_norm(vec({3, 5}, {1, 2}), Tensor(), Tensor(), erm, erv, false, 0.1, 0.5),
               {2 / std::sqrt(4.5), 3 / std::sqrt(9.5)});
}

TEST_CASE("batch_norm: running statistics are also updated under no-grad, float32 too") {
  NoGradGuard no_grad;
  Tensor x = Tensor::from_vector(std::vector<float>{1, 10, 2, 20, 3, 60}, {3, 2});
  Tensor rm = Tensor::zeros({2}), rv = Tensor::ones({2});
  Tensor y = batch_norm(x, Tensor(), Tensor(), rm, rv, true, 0.1, 1e-5);
  CHECK_FALSE(y.requires_grad());
  check_values(rm, {0.2, 3.0}, 1e-6);
  check_values(rv, {1.0, 70.9}, 1e-6);
}

TEST_CASE("batch_norm: backward matches finite differences for x, gamma and beta") {
  const Shape xs{6, 4};
  // Training with running buffers (they must not disturb the gradient).
  Tensor rm = Tensor::zeros({4}, DType::F64), rv = Tensor::ones({4}, DType::F64);
  CHECK_GRADIENTS(
      ([rm, rv](const std::vector<Tensor>& in) { return batch_norm(in[0], in[1], in[2], rm, rv, true); }),
      (std::vector<Tensor>{random_input(xs, 400, 2.0, 0.5), random_input({4}, 401), random_input({4}, 402)}));
  CHECK_GRADIENTS(
      [](const std::vector<Tensor>& in) { return batch_norm(in[0], Tensor(), Tensor(), Tensor(), Tensor(), true); },
      std::vector<Tensor>{random_input(xs, 403)});
  // The smallest legal batch.
  CHECK_GRADIENTS(
      [](const std::vector<Tensor>& in) { return batch_norm(in[0], in[1], in[2], Tensor(), Tensor(), true); },
      (std::vector<Tensor>{random_input({2, 3}, 404), random_input({3}, 405), random_input({3}, 406)}));
  // Eval: an affine map of x with the running statistics.
  Tensor erm = random_input({4}, 407, 1.0, 0.0, false), erv = positive_input({4}, 408).detach();
  CHECK_GRADIENTS(
      ([erm, erv](const std::vector<Tensor>& in) { return batch_norm(in[0], in[1], in[2], erm, erv, false); }),
      (std::vector<Tensor>{random_input(xs, 409), random_input({4}, 410), random_input({4}, 411)}));
  CHECK_GRADIENTS(
      ([erm, erv](const std::vector<Tensor>& in) { return batch_norm(in[0], Tensor(), Tensor(), erm, erv, false); }),
      std::vector<Tensor>{random_input(xs, 412)});
}

TEST_CASE("batch_norm: eval backward uses the statistics of its forward, not later buffer values") {
  Tensor x = random_input({4, 2}, 420);
  Tensor rm = vec({0.5, -0.5}, {2}), rv = vec({2, 3}, {2});
  Tensor gamma = vec({1.5, -1}, {2});
  gamma.set_requires_grad(true);
  Tensor y = batch_norm(x, gamma, Tensor(), rm, rv, false);
  rm.fill_(100);  // e.g. a training step in between
  sum(y).backward();
  // dgamma = sum over rows of xhat with the forward's mean 0.5 / -0.5.
  const auto xv = x.to_vector<double>();
  double d0 = 0, d1 = 0;
  for (int r = 0; r < 4; ++r) {
    d0 += (xv[r * 2] - 0.5) / std::sqrt(2 + 1e-5);
    d1 += (xv[r * 2 + 1] + 0.5) / std::sqrt(3 + 1e-5);
  }
  check_values(gamma.grad(), {d0, d1});
  check_values(x.grad(), {1.5 / std::sqrt(2 + 1e-5), -1 / std::sqrt(3 + 1e-5), 1.5 / std::sqrt(2 + 1e-5),
                          -1 / std::sqrt(3 + 1e-5), 1.5 / std::sqrt(2 + 1e-5), -1 / std::sqrt(3 + 1e-5),
                          1.5 / std::sqrt(2 + 1e-5), -1 / std::sqrt(3 + 1e-5)});
}

// ---- l2 normalisation ----------------------------------------------------------------------------------

TEST_CASE("l2_normalize_rows: values, zero rows, eps clamp") {
  check_values(l2_normalize_rows(vec({3, 4}, {1, 2})), {0.6, 0.8});
  check_values(l2_normalize_rows(vec({3, 4}, {2})), {0.6, 0.8});
  // A zero row stays zero (divided by eps, not by 0).
  check_values(l2_normalize_rows(vec({3, 4, 0, 0, 0, -2}, {3, 2})), {0.6, 0.8, 0, 0, 0, -1});
  // Norm 0.5 below eps = 1: divided by 1, not by the norm.
  check_values(l2_normalize_rows(vec({0.3, 0.4}, {1, 2}), 1.0), {0.3, 0.4});
}

TEST_CASE("l2_normalize_rows: backward matches finite differences, clamped rows included") {
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return l2_normalize_rows(in[0]); },
                  std::vector<Tensor>{random_input({4, 6}, 500)});
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return l2_normalize_rows(in[0]); },
                  std::vector<Tensor>{random_input({2, 3, 5}, 501)});
  // Rows 0 and 2 have norm 0.5 (< eps = 1, clamped), rows 1 and 3 norm 5 and 2.5 (not clamped).
  Tensor x = vec({0.3, 0.4, 3, 4, 0, -0.5, 1.5, 2.0}, {4, 2});
  x.set_requires_grad(true);
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return l2_normalize_rows(in[0], 1.0); }, std::vector<Tensor>{x});
  // The clamped rows' gradient is gy / eps exactly.
  Tensor x2 = vec({0.3, 0.4}, {1, 2});
  x2.set_requires_grad(true);
  sum(mul(l2_normalize_rows(x2, 2.0), vec({1, -3}, {1, 2}))).backward();
  check_values(x2.grad(), {0.5, -1.5});
}

// ---- CUDA parity ---------------------------------------------------------------------------------------

TEST_CASE("softmax and norm ops: CUDA matches the CPU") {
  using cg::test::check_cuda_parity;
  // Shapes cover: row shorter than a warp, a few warps, rows longer than a block (strided).
  for (const Shape& sh : {Shape{5, 1}, Shape{129, 300}, Shape{7, 3000}}) {
    INFO("shape " << shape_str(sh));
    check_cuda_parity("softmax_rows", [](const std::vector<Tensor>& in) { return softmax_rows(in[0]); },
                      {random_input(sh, 600, 3.0)});
    check_cuda_parity("log_softmax_rows", [](const std::vector<Tensor>& in) { return log_softmax_rows(in[0]); },
                      {random_input(sh, 601, 3.0)});
    check_cuda_parity("l2_normalize_rows", [](const std::vector<Tensor>& in) { return l2_normalize_rows(in[0]); },
                      {random_input(sh, 602)});
  }
  for (const Shape& sh : {Shape{129, 300}, Shape{3, 2500}, Shape{64, 7}}) {
    INFO("shape " << shape_str(sh));
    const int64_t cols = sh.back();
    check_cuda_parity("layer_norm", [](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], in[2]); },
                      {random_input(sh, 610, 2.0, 0.5), random_input({cols}, 611), random_input({cols}, 612)});
    check_cuda_parity("layer_norm (no affine)",
                      [](const std::vector<Tensor>& in) { return layer_norm(in[0], Tensor(), Tensor()); },
                      {random_input(sh, 613)});
  }
  // Clamped and unclamped rows of l2 normalisation: row norms of N(0, 0.3^2) x 5 straddle 0.6.
  check_cuda_parity("l2_normalize_rows clamp",
                    [](const std::vector<Tensor>& in) { return l2_normalize_rows(in[0], 0.6); },
                    {random_input({64, 5}, 620, 0.3)});
  // Column counts that are and are not multiples of the 32-column CUDA tiles; N from 2 to 1000.
  for (const Shape& sh : {Shape{257, 70}, Shape{2, 33}, Shape{1000, 32}, Shape{16, 1}}) {
    INFO("shape " << shape_str(sh));
    const int64_t c = sh[1];
    const Tensor rm = random_input({c}, 630, 1.0, 0.0, false), rv = positive_input({c}, 631).detach();
    check_cuda_parity("batch_norm train",
                      [](const std::vector<Tensor>& in) { return batch_norm(in[0], in[1], in[2], in[3], in[4], true); },
                      {random_input(sh, 632, 2.0, 0.5), random_input({c}, 633), random_input({c}, 634), rm, rv});
    check_cuda_parity(
        "batch_norm train (no affine)",
        [](const std::vector<Tensor>& in) { return batch_norm(in[0], Tensor(), Tensor(), Tensor(), Tensor(), true); },
        {random_input(sh, 635)});
    check_cuda_parity(
        "batch_norm eval",
        [](const std::vector<Tensor>& in) { return batch_norm(in[0], in[1], in[2], in[3], in[4], false); },
        {random_input(sh, 636), random_input({c}, 637), random_input({c}, 638), rm, rv});
  }
}

TEST_CASE("batch_norm: CUDA running-statistics update matches the CPU") {
  if (!cg::test::cuda_ready("batch_norm running statistics")) return;
  Tensor x = random_input({300, 45}, 650, 2.0, 1.0, false).to(DType::F32);
  Tensor rm_cpu = random_input({45}, 651, 1.0, 0.0, false).to(DType::F32);
  Tensor rv_cpu = positive_input({45}, 652).detach().to(DType::F32);
  Tensor rm_gpu = rm_cpu.to(Device::CUDA), rv_gpu = rv_cpu.to(Device::CUDA);
  for (int step = 0; step < 3; ++step) {
    batch_norm(x, Tensor(), Tensor(), rm_cpu, rv_cpu, true, 0.3);
    batch_norm(x.to(Device::CUDA), Tensor(), Tensor(), rm_gpu, rv_gpu, true, 0.3);
  }
  CHECK(cg::test::max_rel_diff(rm_cpu.to_vector<double>(), rm_gpu.to_vector<double>()) < cg::test::kParityTolerance);
  CHECK(cg::test::max_rel_diff(rv_cpu.to_vector<double>(), rv_gpu.to_vector<double>()) < cg::test::kParityTolerance);
}

// ---- argument errors ----------------------------------------------------------------------------------

TEST_CASE("softmax and norm ops: bad calls throw errors naming the op and the shapes") {
  Tensor x = Tensor::ones({2, 3});
  Tensor idx = Tensor::from_indices({1, 2, 3});
  CHECK_THROWS_WITH_AS(softmax_rows(idx), doctest::Contains("softmax_rows"), cg::Error);
  CHECK_THROWS_WITH_AS(log_softmax_rows(idx), doctest::Contains("log_softmax_rows"), cg::Error);
  CHECK_THROWS_WITH_AS(softmax_rows(Tensor()), doctest::Contains("softmax_rows"), cg::Error);
  CHECK_THROWS_WITH_AS(softmax_rows(Tensor::ones({2, 0})), doctest::Contains("[2, 0]"), cg::Error);
  CHECK_THROWS_WITH_AS(l2_normalize_rows(idx), doctest::Contains("l2_normalize_rows"), cg::Error);

  // layer_norm: gamma/beta must be [cols] with the input's dtype.
  CHECK_THROWS_WITH_AS(layer_norm(x, Tensor::ones({4}), Tensor()), doctest::Contains("layer_norm"), cg::Error);
  CHECK_THROWS_WITH_AS(layer_norm(x, Tensor::ones({4}), Tensor()), doctest::Contains("gamma of shape [3]"), cg::Error);
  CHECK_THROWS_WITH_AS(layer_norm(x, Tensor::ones({4}), Tensor()), doctest::Contains("found [4]"), cg::Error);
  CHECK_THROWS_WITH_AS(layer_norm(x, Tensor(), Tensor::ones({1, 3})), doctest::Contains("beta of shape [3]"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(layer_norm(x, Tensor::ones({3}, DType::F64), Tensor()), doctest::Contains("layer_norm"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(layer_norm(idx, Tensor(), Tensor()), doctest::Contains("layer_norm"), cg::Error);
  CHECK_THROWS_WITH_AS(layer_norm(x, idx, Tensor()), doctest::Contains("layer_norm"), cg::Error);

  // batch_norm: rank 2 only, [C] parameters and buffers, N > 1 in training, running stats in eval.
  CHECK_THROWS_WITH_AS(batch_norm(Tensor::ones({2, 3, 4}), Tensor(), Tensor(), Tensor(), Tensor(), true),
                       doctest::Contains("rank-2"), cg::Error);
  CHECK_THROWS_WITH_AS(batch_norm(Tensor::ones({2, 3, 4}), Tensor(), Tensor(), Tensor(), Tensor(), true),
                       doctest::Contains("batch_norm"), cg::Error);
  CHECK_THROWS_WITH_AS(batch_norm(x, Tensor::ones({2}), Tensor(), Tensor(), Tensor(), true),
                       doctest::Contains("gamma of shape [3]"), cg::Error);
  CHECK_THROWS_WITH_AS(batch_norm(x, Tensor(), Tensor(), Tensor::zeros({2}), Tensor::ones({2}), true),
                       doctest::Contains("running_mean of shape [3]"), cg::Error);
  CHECK_THROWS_WITH_AS(batch_norm(x, Tensor(), Tensor(), Tensor::zeros({3}), Tensor(), true),
                       doctest::Contains("together"), cg::Error);
  CHECK_THROWS_WITH_AS(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false), doctest::Contains("eval mode"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(batch_norm(Tensor::ones({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true),
                       doctest::Contains("more than one value per channel"), cg::Error);
  CHECK_THROWS_WITH_AS(batch_norm(Tensor::ones({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true),
                       doctest::Contains("[1, 3]"), cg::Error);
  CHECK_THROWS_WITH_AS(batch_norm(Tensor::from_indices({1, 2}), Tensor(), Tensor(), Tensor(), Tensor(), true),
                       doctest::Contains("batch_norm"), cg::Error);
  CHECK_THROWS_WITH_AS(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 1.5), doctest::Contains("momentum"),
                       cg::Error);
}
