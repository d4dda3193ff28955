// add/sub/mul/div with explicit broadcasting, bias_add.
#include <doctest/doctest.h>

#include "tests/op_check.h"

using namespace cg;
using cg::test::positive_input;
using cg::test::random_input;

TEST_CASE("binary ops: forward values for every broadcast pattern") {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor row = Tensor::from_vector(std::vector<double>{10, 20, 30}, {3});
  Tensor col = Tensor::from_vector(std::vector<double>{100, 200}, {2, 1});
  Tensor s = Tensor::from_vector(std::vector<double>{2}, {1});
  CHECK(add(a, row).to_vector<double>() == std::vector<double>{11, 22, 33, 14, 25, 36});
  CHECK(add(row, a).to_vector<double>() == std::vector<double>{11, 22, 33, 14, 25, 36});
  CHECK(sub(a, col).to_vector<double>() == std::vector<double>{-99, -98, -97, -196, -195, -194});
  CHECK(sub(col, a).to_vector<double>() == std::vector<double>{99, 98, 97, 196, 195, 194});
  CHECK(mul(a, s).to_vector<double>() == std::vector<double>{2, 4, 6, 8, 10, 12});
  CHECK(div(s, a).to_vector<double>()[3] == doctest::Approx(0.5));
  CHECK(div(a, a).to_vector<double>() == std::vector<double>(6, 1.0));
  CHECK(add(a, Tensor::from_vector(std::vector<double>{1, 1, 1}, {1, 3})).shape() == Shape{2, 3});
  CHECK((a * 2.0 + 1.0).to_vector<double>() == std::vector<double>{3, 5, 7, 9, 11, 13});
  CHECK(bias_add(a, row).to_vector<double>() == std::vector<double>{11, 22, 33, 14, 25, 36});
  // rank 3: rows are the product of the leading dims
  Tensor a3 = Tensor::from_vector(std::vector<double>(12, 1.0), {2, 2, 3});
  CHECK(add(a3, row).shape() == Shape{2, 2, 3});
}

TEST_CASE("binary ops: backward matches finite differences for every broadcast pattern") {
  using Fn = Tensor (*)(const Tensor&, const Tensor&);
  const std::pair<const char*, Fn> ops[] = {{"add", add}, {"sub", sub}, {"mul", mul}, {"div", div}};
  const Shape full{3, 4};
  const Shape smalls[] = {{3, 4}, {1}, {4}, {1, 4}, {3, 1}};
  uint64_t seed = 1;
  for (const auto& [name, fn] : ops)
    for (const Shape& sh : smalls) {
      INFO(name << " with second operand " << shape_str(sh));
      Tensor a = random_input(full, seed++);
      Tensor b = positive_input(sh, seed++);  // positive: safe divisor
      auto f = fn;
      CHECK_GRADIENTS([f](const std::vector<Tensor>& in) { return f(in[0], in[1]); }, (std::vector<Tensor>{a, b}));
      // small operand first
      Tensor a2 = positive_input(sh, seed++), b2 = positive_input(full, seed++);
      CHECK_GRADIENTS([f](const std::vector<Tensor>& in) { return f(in[0], in[1]); }, (std::vector<Tensor>{a2, b2}));
    }
  Tensor x = random_input({5, 3}, 77), bias = random_input({3}, 78);
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return bias_add(in[0], in[1]); }, (std::vector<Tensor>{x, bias}));
  // the same tensor used twice accumulates both contributions
  Tensor y = random_input({2, 3}, 79);
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return mul(in[0], in[0]) + in[0]; }, std::vector<Tensor>{y});
}

TEST_CASE("binary ops: CUDA matches the CPU") {
  using Fn = Tensor (*)(const Tensor&, const Tensor&);
  const std::pair<const char*, Fn> ops[] = {{"add", add}, {"sub", sub}, {"mul", mul}, {"div", div}};
  const Shape smalls[] = {{37, 50}, {1}, {50}, {37, 1}};
  uint64_t seed = 900;
  for (const auto& [name, fn] : ops)
    for (const Shape& sh : smalls) {
      auto f = fn;
      cg::test::check_cuda_parity(name, [f](const std::vector<Tensor>& in) { return f(in[0], in[1]); },
                                  {random_input({37, 50}, seed++), positive_input(sh, seed++)});
    }
  cg::test::check_cuda_parity("bias_add", [](const std::vector<Tensor>& in) { return bias_add(in[0], in[1]); },
                              {random_input({37, 50}, 5), random_input({50}, 6)});
}

TEST_CASE("binary ops: shape mismatches are errors that name the op and both shapes, never silent broadcasts") {
  Tensor a = Tensor::ones({3, 4});
  CHECK_THROWS_WITH_AS(add(a, Tensor::ones({3})), doctest::Contains("[3, 4]"), cg::Error);
  CHECK_THROWS_WITH_AS(mul(a, Tensor::ones({4, 3})), doctest::Contains("mul"), cg::Error);
  CHECK_THROWS_WITH_AS(sub(a, Tensor::ones({1, 3})), doctest::Contains("[1, 3]"), cg::Error);
  CHECK_THROWS_WITH_AS(add(a, Tensor::ones({3, 4}, DType::F64)), doctest::Contains("dtypes"), cg::Error);
  CHECK_THROWS_WITH_AS(bias_add(a, Tensor::ones({3})), doctest::Contains("bias_add"), cg::Error);
  if (cg::test::cuda_ready("mixed-device error check"))
    CHECK_THROWS_WITH_AS(add(a, Tensor::ones({3, 4}, DType::F32, Device::CUDA)), doctest::Contains("devices"),
                         cg::Error);
}
