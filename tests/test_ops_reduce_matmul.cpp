// sum/mean over all, rows, cols; max_rows; matmul and bmm with every transpose combination; reshape.
#include <doctest/doctest.h>
#include <omp.h>

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
  const std::pair<const char*, Fn> ops[] = {{"sum", sum},           {"mean", mean},
                                            {"sum_rows", sum_rows}, {"mean_rows", mean_rows},
                                            {"sum_cols", sum_cols}, {"mean_cols", mean_cols}};
  uint64_t seed = 10;
  for (const auto& [name, fn] : ops) {
    INFO(name);
    auto f = fn;
    CHECK_GRADIENTS([f](const std::vector<Tensor>& in) { return f(in[0]); },
                    std::vector<Tensor>{random_input({4, 6}, seed++)});
    CHECK_GRADIENTS([f](const std::vector<Tensor>& in) { return f(in[0]); },
                    std::vector<Tensor>{random_input({2, 3, 5}, seed++)});
  }
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return max_rows(in[0]).values; },
                  std::vector<Tensor>{random_input({5, 7}, 44)});
}

TEST_CASE("reductions: CUDA matches the CPU") {
  using Fn = Tensor (*)(const Tensor&);
  const std::pair<const char*, Fn> ops[] = {{"sum", sum},           {"mean", mean},
                                            {"sum_rows", sum_rows}, {"mean_rows", mean_rows},
                                            {"sum_cols", sum_cols}, {"mean_cols", mean_cols}};
  uint64_t seed = 20;
  // Shapes for every path of the two-pass CUDA reductions: one column tile and many row chunks
  // (4099 x 5), many tiles and one chunk (3 x 7001), a partial last tile and chunk (129 x 300), a
  // sum over more elements than the first pass's grid has threads (600 x 700), and one element.
  const Shape shapes[] = {{129, 300}, {4099, 5}, {3, 7001}, {600, 700}, {1, 1}};
  for (const auto& [name, fn] : ops)
    for (const Shape& shape : shapes) {
      auto f = fn;
      cg::test::check_cuda_parity(name, [f](const std::vector<Tensor>& in) { return f(in[0]); },
                                  {random_input(shape, seed++)});
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
      CHECK_GRADIENTS([=](const std::vector<Tensor>& in) { return matmul(in[0], in[1], ta, tb); },
                      (std::vector<Tensor>{x, y}));
      Tensor bx = random_input(ta ? Shape{2, 4, 3} : Shape{2, 3, 4}, seed++);
      Tensor by = random_input(tb ? Shape{2, 5, 4} : Shape{2, 4, 5}, seed++);
      CHECK_GRADIENTS([=](const std::vector<Tensor>& in) { return bmm(in[0], in[1], ta, tb); },
                      (std::vector<Tensor>{bx, by}));
      cg::test::check_cuda_parity("matmul", [=](const std::vector<Tensor>& in) { return matmul(in[0], in[1], ta, tb); },
                                  {random_input(ta ? Shape{70, 33} : Shape{33, 70}, seed),
                                   random_input(tb ? Shape{45, 70} : Shape{70, 45}, seed + 1)});
      cg::test::check_cuda_parity("bmm", [=](const std::vector<Tensor>& in) { return bmm(in[0], in[1], ta, tb); },
                                  {random_input(ta ? Shape{3, 20, 9} : Shape{3, 9, 20}, seed),
                                   random_input(tb ? Shape{3, 11, 20} : Shape{3, 20, 11}, seed + 1)});
    }
  // bmm equals the matmul of each batch slice
  Tensor bx = random_input({3, 2, 4}, 5, 1, 0, false), by = random_input({3, 4, 2}, 6, 1, 0, false);
  const auto whole = bmm(bx, by).to_vector<double>();
  for (int i = 0; i < 3; ++i) {
    Tensor xi =
        Tensor::from_vector(std::vector<double>(bx.data<double>() + 8 * i, bx.data<double>() + 8 * i + 8), {2, 4});
    Tensor yi =
        Tensor::from_vector(std::vector<double>(by.data<double>() + 8 * i, by.data<double>() + 8 * i + 8), {4, 2});
    const auto part = matmul(xi, yi).to_vector<double>();
    for (int j = 0; j < 4; ++j) CHECK(whole[4 * i + j] == doctest::Approx(part[j]));
  }
}

TEST_CASE("matmul: a second backward adds into existing leaf gradients") {
  // The CPU backward adds a leaf's gradient straight into its .grad with one beta = 1 GEMM once
  // the gradient exists; the totals must equal the sum of separate backwards.
  uint64_t seed = 90;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      INFO("trans_a " << ta << " trans_b " << tb);
      Tensor x = random_input(ta ? Shape{200, 64} : Shape{64, 200}, seed++);
      Tensor y = random_input(tb ? Shape{300, 200} : Shape{200, 300}, seed++);
      Tensor w = random_input({64, 300}, seed++, 1.0, 0.0, false);
      auto loss = [&](const Tensor& a, const Tensor& b) { return sum(matmul(a, b, ta, tb) * w); };
      loss(x, y).backward();
      const auto gx1 = x.grad().to_vector<double>(), gy1 = y.grad().to_vector<double>();
      const void* gx_data = x.grad().raw_data();
      loss(x, y).backward();
      CHECK(x.grad().raw_data() == gx_data);  // accumulated in place
      const auto gx2 = x.grad().to_vector<double>(), gy2 = y.grad().to_vector<double>();
      for (size_t i = 0; i < gx1.size(); ++i) REQUIRE(gx2[i] == doctest::Approx(2 * gx1[i]).epsilon(1e-12));
      for (size_t i = 0; i < gy1.size(); ++i) REQUIRE(gy2[i] == doctest::Approx(2 * gy1[i]).epsilon(1e-12));
      // Zeroed, then one backward through a non-leaf operand a = 2 * x: x gets 2 * dL/da (dL/da
      // does not depend on a) and y, whose product doubled, 2 * gy1; the tape carries a's part.
      x.zero_grad();
      y.zero_grad();
      loss(x * 2.0, y).backward();
      const auto gx3 = x.grad().to_vector<double>(), gy3 = y.grad().to_vector<double>();
      for (size_t i = 0; i < gx1.size(); ++i) REQUIRE(gx3[i] == doctest::Approx(2 * gx1[i]).epsilon(1e-12));
      for (size_t i = 0; i < gy1.size(); ++i) REQUIRE(gy3[i] == doctest::Approx(2 * gy1[i]).epsilon(1e-12));
    }
}

TEST_CASE("matmul: the CPU result is the same bits for 1 and 2 threads") {
  // GEMM blocks depend only on the shape, never on the thread count (kernels/cpu/parallel.h).
  const int before = omp_get_max_threads();
  for (const Shape& s : {Shape{32, 700, 800}, Shape{800, 32, 700}, Shape{700, 800, 32}}) {
    Tensor a = random_input({s[0], s[2]}, 7, 1, 0, false).to(DType::F32),
           b = random_input({s[2], s[1]}, 8, 1, 0, false).to(DType::F32);
    omp_set_num_threads(1);
    const auto one = matmul(a, b).to_vector<float>();
    omp_set_num_threads(2);
    const auto two = matmul(a, b).to_vector<float>();
    CHECK(one == two);
  }
  omp_set_num_threads(before);
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
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return square(reshape(in[0], {6})); },
                  std::vector<Tensor>{random_input({2, 3}, 3)});
}
