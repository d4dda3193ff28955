// concat, slice, transpose, gather_rows: hand-computed forwards, finite-difference backwards,
// error messages, CUDA parity.
#include <doctest/doctest.h>

#include "tests/op_check.h"

using namespace cg;
using cg::test::check_cuda_parity;
using cg::test::random_input;

namespace {
Tensor mat(std::vector<double> v, Shape s) { return Tensor::from_vector(v, s); }
using V = std::vector<double>;
}  // namespace

TEST_CASE("concat: forward values along rows and columns") {
  Tensor a = mat({1, 2, 3, 4}, {2, 2}), b = mat({5, 6}, {1, 2}), c = mat({7, 8, 9, 10, 11, 12}, {3, 2});
  Tensor r = concat({a, b, c}, 0);
  CHECK(r.shape() == Shape{6, 2});
  CHECK(r.to_vector<double>() == V{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});

  Tensor d = mat({1, 2, 3, 4}, {2, 2}), e = mat({5, 6}, {2, 1}), f = mat({7, 8, 9, 10, 11, 12}, {2, 3});
  Tensor k = concat({d, e, f}, 1);
  CHECK(k.shape() == Shape{2, 6});
  CHECK(k.to_vector<double>() == V{1, 2, 5, 7, 8, 9, 3, 4, 6, 10, 11, 12});
  // A single part is a copy, not an alias.
  Tensor one = concat({d}, 1);
  CHECK(one.to_vector<double>() == d.to_vector<double>());
  CHECK(one.raw_data() != d.raw_data());
}

TEST_CASE("concat: backward of three parts along both axes") {
  CHECK_GRADIENTS(
      [](const std::vector<Tensor>& in) {
        return concat({in[0], in[1], in[2]}, 0);
      },
      (std::vector<Tensor>{random_input({2, 4}, 1), random_input({1, 4}, 2), random_input({3, 4}, 3)}));
  CHECK_GRADIENTS(
      [](const std::vector<Tensor>& in) {
        return concat({in[0], in[1], in[2]}, 1);
      },
      (std::vector<Tensor>{random_input({3, 2}, 4), random_input({3, 1}, 5), random_input({3, 4}, 6)}));
  // A part used twice gets both gradients; a part without requires_grad gets none.
  Tensor x = random_input({2, 3}, 7);
  Tensor frozen = random_input({2, 3}, 8, 1.0, 0.0, false);
  CHECK_GRADIENTS(
      [frozen](const std::vector<Tensor>& in) {
        return concat({in[0], frozen, in[0]}, 1);
      },
      std::vector<Tensor>{x});
  Tensor y = Tensor::ones({2, 2}, DType::F64).set_requires_grad(true);
  sum(concat({y, y}, 0)).backward();
  CHECK(y.grad().to_vector<double>() == V{2, 2, 2, 2});
}

TEST_CASE("concat: mismatched shapes name the op and the shapes") {
  Tensor a = Tensor::ones({2, 3}), b = Tensor::ones({2, 4});
  CHECK_THROWS_WITH_AS(concat({a, b}, 0), doctest::Contains("concat"), cg::Error);
  CHECK_THROWS_WITH_AS(concat({a, b}, 0), doctest::Contains("[2, 4]"), cg::Error);
  CHECK_NOTHROW(concat({a, b}, 1));
  CHECK_THROWS_WITH_AS(concat({a, Tensor::ones({3, 3})}, 1), doctest::Contains("number of rows"), cg::Error);
  CHECK_THROWS_WITH_AS(concat({a, b}, 2), doctest::Contains("axis"), cg::Error);
  CHECK_THROWS_WITH_AS(concat({}, 0), doctest::Contains("concat"), cg::Error);
  CHECK_THROWS_WITH_AS(concat({a, Tensor::ones({2, 3}, DType::F64)}, 0), doctest::Contains("dtypes"), cg::Error);
  CHECK_THROWS_WITH_AS(concat({Tensor::ones({2, 3, 1}), a}, 0), doctest::Contains("rank-2"), cg::Error);
}

TEST_CASE("slice: forward values, backward, range errors") {
  Tensor a = mat({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {3, 4});
  CHECK(slice(a, 0, 1, 3).shape() == Shape{2, 4});
  CHECK(slice(a, 0, 1, 3).to_vector<double>() == V{5, 6, 7, 8, 9, 10, 11, 12});
  CHECK(slice(a, 1, 1, 3).shape() == Shape{3, 2});
  CHECK(slice(a, 1, 1, 3).to_vector<double>() == V{2, 3, 6, 7, 10, 11});
  CHECK(slice(a, 1, 3, 4).to_vector<double>() == V{4, 8, 12});
  CHECK(slice(a, 0, 2, 2).shape() == Shape{0, 4});  // empty slices are allowed

  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return slice(in[0], 0, 1, 4); },
                  std::vector<Tensor>{random_input({5, 3}, 11)});
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return slice(in[0], 1, 2, 5); },
                  std::vector<Tensor>{random_input({3, 6}, 12)});
  // Gradient is exactly zero outside the slice.
  Tensor x = Tensor::ones({3, 4}, DType::F64).set_requires_grad(true);
  sum(slice(x, 1, 1, 3)).backward();
  CHECK(x.grad().to_vector<double>() == V{0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0});

  CHECK_THROWS_WITH_AS(slice(a, 0, 2, 4), doctest::Contains("slice"), cg::Error);
  CHECK_THROWS_WITH_AS(slice(a, 0, 2, 4), doctest::Contains("[3, 4]"), cg::Error);
  CHECK_THROWS_AS(slice(a, 1, -1, 2), cg::Error);
  CHECK_THROWS_AS(slice(a, 1, 3, 2), cg::Error);
  CHECK_THROWS_AS(slice(a, 2, 0, 1), cg::Error);
}

TEST_CASE("slice and concat are inverse") {
  Tensor x = random_input({5, 7}, 13, 1.0, 0.0, false);
  Tensor back = concat({slice(x, 1, 0, 2), slice(x, 1, 2, 3), slice(x, 1, 3, 7)}, 1);
  CHECK(back.to_vector<double>() == x.to_vector<double>());
  back = concat({slice(x, 0, 0, 4), slice(x, 0, 4, 5)}, 0);
  CHECK(back.to_vector<double>() == x.to_vector<double>());
}

TEST_CASE("transpose: forward values and backward") {
  Tensor a = mat({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor t = transpose(a);
  CHECK(t.shape() == Shape{3, 2});
  CHECK(t.to_vector<double>() == V{1, 4, 2, 5, 3, 6});
  // Larger than one 32x32 tile in both directions, with ragged edges.
  Tensor big = random_input({45, 70}, 14, 1.0, 0.0, false);
  const auto bv = big.to_vector<double>(), tv = transpose(big).to_vector<double>();
  bool same = true;
  for (int r = 0; r < 45; ++r)
    for (int c = 0; c < 70; ++c) same = same && tv[c * 45 + r] == bv[r * 70 + c];
  CHECK(same);
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return transpose(in[0]); },
                  std::vector<Tensor>{random_input({3, 5}, 15)});
  CHECK_THROWS_WITH_AS(transpose(Tensor::ones({2, 3, 4})), doctest::Contains("transpose"), cg::Error);
}

TEST_CASE("gather_rows: forward values, repeated indices, rank 3") {
  Tensor a = mat({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor g = gather_rows(a, Tensor::from_indices({2, 0, 2, 2}));
  CHECK(g.shape() == Shape{4, 2});
  CHECK(g.to_vector<double>() == V{5, 6, 1, 2, 5, 6, 5, 6});
  CHECK(gather_rows(a, Tensor::from_indices({})).shape() == Shape{0, 2});
  // Rank 3: the first dimension is indexed, the rest travel together.
  Tensor b = mat({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
  Tensor gb = gather_rows(b, Tensor::from_indices({1, 1, 0}));
  CHECK(gb.shape() == Shape{3, 2, 2});
  CHECK(gb.to_vector<double>() == V{5, 6, 7, 8, 5, 6, 7, 8, 1, 2, 3, 4});

  // Repeated indices accumulate their gradients: row 2 is used three times, row 1 never.
  Tensor x = Tensor::ones({3, 2}, DType::F64).set_requires_grad(true);
  sum(gather_rows(x, Tensor::from_indices({2, 0, 2, 2}))).backward();
  CHECK(x.grad().to_vector<double>() == V{1, 1, 0, 0, 3, 3});
}

TEST_CASE("gather_rows: backward matches finite differences") {
  Tensor idx = Tensor::from_indices({3, 0, 3, 1, 3, 0});
  CHECK_GRADIENTS([idx](const std::vector<Tensor>& in) { return gather_rows(in[0], idx); },
                  std::vector<Tensor>{random_input({4, 5}, 21)});
  CHECK_GRADIENTS([idx](const std::vector<Tensor>& in) { return gather_rows(in[0], idx); },
                  std::vector<Tensor>{random_input({4, 2, 3}, 22)});
  // Nonlinear use of repeated rows: product of two gathers of the same row.
  CHECK_GRADIENTS(
      [idx](const std::vector<Tensor>& in) { return mul(gather_rows(in[0], idx), gather_rows(in[0], idx)); },
      std::vector<Tensor>{random_input({4, 5}, 23)});
}

TEST_CASE("gather_rows: bad indices name the op, the position and the shape") {
  Tensor a = Tensor::ones({3, 2});
  CHECK_THROWS_WITH_AS(gather_rows(a, Tensor::from_indices({0, 3})), doctest::Contains("index[1] = 3"), cg::Error);
  CHECK_THROWS_WITH_AS(gather_rows(a, Tensor::from_indices({0, 3})), doctest::Contains("[3, 2]"), cg::Error);
  CHECK_THROWS_WITH_AS(gather_rows(a, Tensor::from_indices({-1})), doctest::Contains("gather_rows"), cg::Error);
  CHECK_THROWS_WITH_AS(gather_rows(a, Tensor::ones({2})), doctest::Contains("int32"), cg::Error);
}

TEST_CASE("shape ops: CUDA matches the CPU") {
  check_cuda_parity("concat axis 0",
                    [](const std::vector<Tensor>& in) {
                      return concat({in[0], in[1], in[2]}, 0);
                    },
                    {random_input({33, 70}, 31), random_input({1, 70}, 32), random_input({65, 70}, 33)});
  check_cuda_parity("concat axis 1",
                    [](const std::vector<Tensor>& in) {
                      return concat({in[0], in[1], in[2]}, 1);
                    },
                    {random_input({40, 33}, 34), random_input({40, 1}, 35), random_input({40, 65}, 36)});
  check_cuda_parity("slice axis 0", [](const std::vector<Tensor>& in) { return slice(in[0], 0, 7, 90); },
                    {random_input({100, 37}, 37)});
  check_cuda_parity("slice axis 1", [](const std::vector<Tensor>& in) { return slice(in[0], 1, 7, 30); },
                    {random_input({100, 37}, 38)});
  check_cuda_parity("transpose", [](const std::vector<Tensor>& in) { return transpose(in[0]); },
                    {random_input({129, 300}, 39)});
  std::vector<int32_t> idx;
  for (int i = 0; i < 500; ++i) idx.push_back((i * 37) % 50);  // every row about ten times
  check_cuda_parity("gather_rows", [](const std::vector<Tensor>& in) { return gather_rows(in[0], in[1]); },
                    {random_input({50, 3, 40}, 40), Tensor::from_indices(idx)});
  if (cg::test::cuda_ready("gather_rows range check")) {
    Tensor a = Tensor::ones({3, 2}, DType::F32, Device::CUDA);
    CHECK_THROWS_WITH_AS(gather_rows(a, Tensor::from_indices({0, 1, 5, 7}, Device::CUDA)),
                         doctest::Contains("index[2] = 5"), cg::Error);
    // A host index picks rows of a device tensor (checked on the host, then uploaded): the
    // same values and gradient as a device index, and the same refusal when out of range.
    CHECK_THROWS_WITH_AS(gather_rows(a, Tensor::from_indices({0, 4}, Device::CPU)), doctest::Contains("index[1] = 4"),
                         cg::Error);
    Tensor x = random_input({6, 4}, 41).to(DType::F32).to(Device::CUDA);
    x.set_requires_grad(true);
    const Tensor host_idx = Tensor::from_indices({5, 0, 5, 2});
    const Tensor via_host = gather_rows(x, host_idx), via_device = gather_rows(x, host_idx.to(Device::CUDA));
    CHECK(via_host.device() == Device::CUDA);
    CHECK(via_host.to_vector<double>() == via_device.to_vector<double>());
    sum(via_host).backward();
    const std::vector<double> g = x.grad().to_vector<double>();
    CHECK(g[5 * 4] == 2.0);  // row 5 picked twice
    CHECK(g[1 * 4] == 0.0);  // row 1 never
  }
  if (cg::test::cuda_ready("gather_rows deterministic backward")) {
    // --deterministic: repeated rows' gradients summed in the CPU's order, so equal bit for bit
    // (the atomic version may differ in the last bits from run to run).
    std::vector<int32_t> rep;
    for (int i = 0; i < 3000; ++i) rep.push_back((i * 7919) % 37);
    const Tensor index = Tensor::from_indices(rep);
    const Tensor g = random_input({3000, 33}, 42).to(DType::F32);
    auto grad_on = [&](Device dev) {
      Tensor x = Tensor::zeros({37, 33}, DType::F32, dev);
      x.set_requires_grad(true);
      sum(mul(gather_rows(x, index.to(dev)), g.to(dev))).backward();
      return x.grad().to_vector<float>();
    };
    set_deterministic(true);
    const std::vector<float> cpu = grad_on(Device::CPU), gpu = grad_on(Device::CUDA), again = grad_on(Device::CUDA);
    set_deterministic(false);
    CHECK(gpu == cpu);
    CHECK(again == gpu);
  }
}
