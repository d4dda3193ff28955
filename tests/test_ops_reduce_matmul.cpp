// sum/mean over all, rows, cols; max_rows; matmul and bmm with every transpose combination; reshape.
#include <doctest/doctest.h>

#include "tests/op_check.h"

using namespace cg;
using cg::test::random_input;

TEST_CASE("reductions: forward values") {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(sum(a).item() == 21);
  CHECK(mean(a).item() == 3.5);
  CHECK(sum_rows(a).to_vector<double>() == std::vector<double>{6, 15});
  CHECK(sum_rows(a).shape() == Shape{2, 1});
  CHECK(mean_rows(a).to_vector<double>() == std::vector<double>{2, 5});
  CHECK(sum_cols(a).to_vector<double>() == std::vector<double>{5, 7, 9});
  CHECK(mean_cols(a).shape() == Shape{1, 3});
  CHECK(mean_cols(a).to_vector<double>() == std::vector<double>{2.5, 3.5, 4.5});
  Tensor m = Tensor::from_vector(std::vector<double>{1, 9, 3, 7, 2, 7}, {2, 3});
  auto mx = max_rows(m);
  CHECK(mx.values.to_vector<double>() == std::vector<double>{9, 7});
  CHECK(mx.indices.to_vector<int32_t>() == std::vector<int32_t>{1, 0});  // first occurrence on ties
}

TEST_CASE("reductions: backward matches finite differences") {
  using Fn = Tensor (*)(const Tensor&);
  const std::pair<const char*, Fn> ops[] = {{"sum", sum},           {"mean", mean},         {"sum_rows", sum_rows},
                                            {"mean_rows", mean_rows}, {"sum_cols", sum_cols}, {"mean_cols", mean_cols}};
  uint64_t seed = 10;
  for (const auto& [name, fn] : ops) {
    INFO(name);
    auto f = fn;
    CHECK_GRADIENTS([f](const std::vector<Tensor>& in) { return f(in[0]); }, std::vector<Tensor>{random_input({4, 6}, seed++)});
    CHECK_GRADIENTS([f](const std::vector<Tensor>& in) { return f(in[0]); }, std::vector<Tensor>{random_input({2, 3, 5}, seed++)});
  }
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return max_rows(in[0]).values; },
                  std::vector<Tensor>{random_input({5, 7}, 44)});
}

TEST_CASE("reductions: CUDA matches the CPU") {
  using Fn = Tensor (*)(const Tensor&);
  const std::pair<const char*, Fn> ops[] = {{"sum", sum}, {"mean", mean}, {"sum_rows", sum_rows},
                                            {"mean_rows", mean_rows}, {"sum_cols", sum_cols}, {"mean_cols", mean_cols}};
  uint64_t seed = 20;
  for (const auto& [name, fn] : ops) {
    auto f = fn;
    cg::test::check_cuda_parity(name, [f](const std::vector<Tensor>& in) { return f(in[0]); }, {random_input({129, 300}, seed++)});
  }
  cg::test::check_cuda_parity("max_rows", [](const std::vector<Tensor>& in) { return max_rows(in[0]).values; },
                              {random_input({129, 300}, 50)});
}

TEST_CASE("matmul: forward values and every transpose combination") {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector(std::vector<double>{1, 0, 0, 1, 1, 1}, {3, 2});
  CHECK(matmul(a, b).to_vector<double>() == std::vector<double>{4, 5, 10, 11});
  CHECK(matmul(a, a, false, true).to_vector<double>() == std::vector<double>{14, 32, 32, 77});
  CHECK(matmul(a, a, true, false).shape() == Shape{3, 3});
  CHECK(matmul(a, a, true, false).to_vector<double>()[0] == 17);
  CHECK(matmul(b, a, true, true).to_vector<double>() == std::vector<double>{4, 10, 5, 11});
  uint64_t seed = 60;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      INFO("trans_a " << ta << " trans_b " << tb);
      Tensor x = random_input(ta ? Shape{4, 3} : Shape{3, 4}, seed++);
      Tensor y = random_input(tb ? Shape{5, 4} : Shape{4, 5}, seed++);
      CHECK_GRADIENTS([=](const std::vector<Tensor>& in) { return matmul(in[0], in[1], ta, tb); }, (std::vector<Tensor>{x, y}));
      Tensor bx = random_input(ta ? Shape{2, 4, 3} : Shape{2, 3, 4}, seed++);
      Tensor by = random_input(tb ? Shape{2, 5, 4} : Shape{2, 4, 5}, seed++);
      CHECK_GRADIENTS([=](const std::vector<Tensor>& in) { return bmm(in[0], in[1], ta, tb); }, (std::vector<Tensor>{bx, by}));
      cg::test::check_cuda_parity("matmul", [=](const std::vector<Tensor>& in) { return matmul(in[0], in[1], ta, tb); },
                                  {random_input(ta ? Shape{70, 33} : Shape{33, 70}, seed), random_input(tb ? Shape{45, 70} : Shape{70, 45}, seed + 1)});
      cg::test::check_cuda_parity("bmm", [=](const std::vector<Tensor>& in) { return bmm(in[0], in[1], ta, tb); },
                                  {random_input(ta ? Shape{3, 20, 9} : Shape{3, 9, 20}, seed), random_input(tb ? Shape{3, 11, 20} : Shape{3, 20, 11}, seed + 1)});
    }
  // bmm equals the matmul of each batch slice
  Tensor bx = random_input({3, 2, 4}, 5, 1, 0, false), by = random_input({3, 4, 2}, 6, 1, 0, false);
  const auto whole = bmm(bx, by).to_vector<double>();
  for (int i = 0; i < 3; ++i) {
    Tensor xi = Tensor::from_vector(std::vector<double>(bx.data<double>() + 8 * i, bx.data<double>() + 8 * i + 8), {2, 4});
    Tensor yi = Tensor::from_vector(std::vector<double>(by.data<double>() + 8 * i, by.data<double>() + 8 * i + 8), {4, 2});
    const auto part = matmul(xi, yi).to_vector<double>();
    for (int j = 0; j < 4; ++j) CHECK(whole[4 * i + j] == doctest::Approx(part[j]));
  }
}

TEST_CASE("matmul: bad shapes name the op and both shapes") {
  CHECK_THROWS_WITH_AS(matmul(Tensor::ones({2, 3}), Tensor::ones({2, 3})), doctest::Contains("[2, 3]"), cg::Error);
  CHECK_THROWS_WITH_AS(matmul(Tensor::ones({2, 3}), Tensor::ones({3})), doctest::Contains("matmul"), cg::Error);
  CHECK_THROWS_WITH_AS(bmm(Tensor::ones({2, 2, 3}), Tensor::ones({3, 3, 2})), doctest::Contains("batch"), cg::Error);
}

TEST_CASE("reshape: shares storage, infers -1, checks counts, passes gradients through") {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor r = reshape(a, {3, -1});
  CHECK(r.shape() == Shape{3, 2});
  CHECK(r.raw_data() == a.raw_data());
  CHECK_THROWS_WITH_AS(reshape(a, {4, 2}), doctest::Contains("reshape"), cg::Error);
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return square(reshape(in[0], {6})); }, std::vector<Tensor>{random_input({2, 3}, 3)});
}
