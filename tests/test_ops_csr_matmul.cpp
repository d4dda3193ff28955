// csr_matmul (sparse batch times dense matrix) and Linear on a sparse batch: the forward against
// the dense product, the gradient by finite differences in double, CUDA parity, bad input.
#include <doctest/doctest.h>

#include "nn/layers.h"
#include "tests/op_check.h"

using namespace cg;
using cg::test::check_cuda_parity;
using cg::test::random_input;

namespace {

// A dense [rows, cols] double matrix with about `density` of its entries nonzero, one row empty
// and one column empty (the edge cases of both passes).
Tensor sparse_like(int64_t rows, int64_t cols, double density, uint64_t seed) {
  Generator gen(seed);
  Tensor keep = gen.uniform({rows, cols}, Device::CPU, DType::F64);
  Tensor x = random_input({rows, cols}, seed + 1, 1.0, 0.0, false);
  double* px = x.data<double>();
  const double* pk = keep.data<double>();
  for (int64_t i = 0; i < rows * cols; ++i)
    if (pk[i] >= density || i / cols == 1 || i % cols == 2) px[i] = 0.0;
  return x;
}

}  // namespace

TEST_CASE("csr_matmul: equals the dense product, from_dense/to_dense round-trip, empty rows and columns") {
  const Tensor dense = sparse_like(6, 9, 0.3, 1);
  const CsrMatrix a = CsrMatrix::from_dense(dense);
  CHECK(a.rows() == 6);
  CHECK(a.cols() == 9);
  CHECK(a.nnz() > 0);
  CHECK(a.nnz() < 6 * 9 / 2);
  CHECK(a.to_dense().to_vector<double>() == dense.to_vector<double>());
  const Tensor b = random_input({9, 5}, 3, 1.0, 0.0, false);
  const auto sparse = csr_matmul(a, b).to_vector<double>();
  const auto reference = matmul(dense, b).to_vector<double>();
  REQUIRE(sparse.size() == reference.size());
  for (size_t i = 0; i < sparse.size(); ++i) CHECK(sparse[i] == doctest::Approx(reference[i]).epsilon(1e-12));
  for (int64_t j = 0; j < 5; ++j) CHECK(sparse[static_cast<size_t>(1 * 5 + j)] == 0.0);  // the empty row
}

TEST_CASE("csr_matmul: the packed column-block path (over 64 columns, many nonzeros per column) equals the dense product") {
  // 150 columns: two full 64-wide blocks and a partial one; 40 x 12 at 60% gives ~24 nonzeros per
  // column of b (the forward packs b above 4), and the backward always packs grad_out.
  const Tensor dense = sparse_like(40, 12, 0.6, 21);
  const CsrMatrix a = CsrMatrix::from_dense(dense);
  REQUIRE(a.nnz() > 4 * 12);
  const Tensor b = random_input({12, 150}, 22, 1.0, 0.0, true);
  const Tensor w = random_input({40, 150}, 23, 1.0, 0.0, false);
  const Tensor y = csr_matmul(a, b);
  CHECK(cg::test::max_rel_diff(y.to_vector<double>(), matmul(dense, b.detach()).to_vector<double>()) < 1e-13);
  sum(mul(y, w)).backward();
  const auto reference = matmul(transpose(dense), w).to_vector<double>();
  CHECK(cg::test::max_rel_diff(b.grad().to_vector<double>(), reference) < 1e-13);
  // Few nonzeros per column (no packing in the forward), same width: the same answers.
  const Tensor thin = sparse_like(6, 12, 0.3, 24);
  CHECK(cg::test::max_rel_diff(csr_matmul(CsrMatrix::from_dense(thin), b.detach()).to_vector<double>(),
                               matmul(thin, b.detach()).to_vector<double>()) < 1e-13);
}

TEST_CASE("csr_matmul: gradient w.r.t. b (float64 finite differences), with duplicates and unsorted columns") {
  const CsrMatrix a = CsrMatrix::from_dense(sparse_like(5, 7, 0.4, 4));
  CHECK_GRADIENTS([&](const std::vector<Tensor>& in) { return csr_matmul(a, in[0]); },
                  std::vector<Tensor>{random_input({7, 3}, 5)});
  // from_csr accepts a row's columns in any order and repeated (they add up), as CSR files may hold.
  CsrMatrix u = CsrMatrix::from_csr({0, 3, 3, 5}, {4, 0, 4, 1, 2}, {1.f, -2.f, 0.5f, 3.f, 1.f}, 6);
  u.values = u.values.to(DType::F64);
  const std::vector<double> expected = {-2, 0, 0, 0, 1.5, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1, 0, 0, 0};
  CHECK(u.to_dense().to_vector<double>() == expected);
  CHECK_GRADIENTS([&](const std::vector<Tensor>& in) { return csr_matmul(u, in[0]); },
                  std::vector<Tensor>{random_input({6, 4}, 6)});
}

TEST_CASE("Linear on a sparse batch: same output and parameter gradients as on the dense batch") {
  Generator gen(7);
  nn::Linear layer(11, 4, gen);
  layer.weight = layer.weight.to(DType::F64);
  layer.bias = layer.bias.to(DType::F64);
  layer.weight.set_requires_grad(true);
  layer.bias.set_requires_grad(true);
  const Tensor dense = sparse_like(8, 11, 0.2, 8);
  const Tensor w = random_input({8, 4}, 9, 1.0, 0.0, false);
  sum(mul(layer.forward(dense), w)).backward();
  const auto dense_out = layer.forward(dense).to_vector<double>();
  const auto dense_dw = layer.weight.grad().to_vector<double>(), dense_db = layer.bias.grad().to_vector<double>();
  layer.weight.zero_grad();
  layer.bias.zero_grad();
  const CsrMatrix sparse = CsrMatrix::from_dense(dense);
  sum(mul(layer.forward(sparse), w)).backward();
  const auto sparse_out = layer.forward(sparse).to_vector<double>();
  const auto sparse_dw = layer.weight.grad().to_vector<double>(), sparse_db = layer.bias.grad().to_vector<double>();
  CHECK(cg::test::max_rel_diff(dense_out, sparse_out) < 1e-13);
  CHECK(cg::test::max_rel_diff(dense_dw, sparse_dw) < 1e-13);
  CHECK(cg::test::max_rel_diff(dense_db, sparse_db) < 1e-13);
}

TEST_CASE("Linear with an [in, out] weight: same initial values, same outputs and gradients, dense and sparse") {
  Generator g1(7), g2(7);
  nn::Linear out_in(11, 4, g1), in_out(11, 4, g2, nn::Init::TorchDefault, true, nn::WeightLayout::InOut);
  CHECK(in_out.weight.shape() == Shape{11, 4});
  CHECK(in_out.weight.to_vector<double>() == transpose(out_in.weight).to_vector<double>());
  CHECK(in_out.bias.to_vector<double>() == out_in.bias.to_vector<double>());
  const Tensor dense = sparse_like(8, 11, 0.2, 8).to(DType::F32);
  const Tensor w = random_input({8, 4}, 9, 1.0, 0.0, false).to(DType::F32);
  const auto reference = out_in.forward(dense).to_vector<double>();
  sum(mul(out_in.forward(dense), w)).backward();
  const auto reference_dw = transpose(out_in.weight.grad()).to_vector<double>();
  for (const bool sparse : {false, true}) {
    INFO((sparse ? "sparse batch" : "dense batch"));
    in_out.weight.zero_grad();
    const Tensor y = sparse ? in_out.forward(CsrMatrix::from_dense(dense)) : in_out.forward(dense);
    CHECK(cg::test::max_rel_diff(y.to_vector<double>(), reference) < 1e-6);
    sum(mul(y, w)).backward();
    CHECK(cg::test::max_rel_diff(in_out.weight.grad().to_vector<double>(), reference_dw) < 1e-6);
  }
}

TEST_CASE("csr_matmul: CUDA parity (forward and gradient)") {
  const CsrMatrix cpu = CsrMatrix::from_dense(sparse_like(37, 300, 0.05, 10).to(DType::F32));
  CsrMatrix on_cuda;
  check_cuda_parity("csr_matmul",
                    [&](const std::vector<Tensor>& in) {
                      if (in[0].device() == Device::CPU) return csr_matmul(cpu, in[0]);
                      if (!on_cuda.values.defined()) on_cuda = cpu.to(Device::CUDA);
                      return csr_matmul(on_cuda, in[0]);
                    },
                    std::vector<Tensor>{random_input({300, 130}, 11)});
}

TEST_CASE("csr_matmul and CsrMatrix: bad input throws saying what was expected and found") {
  CHECK_THROWS_WITH_AS(CsrPattern::from_csr({0, 2, 1}, {0, 1}, 3), doctest::Contains("row pointers decrease at row 1"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(CsrPattern::from_csr({1, 2}, {0, 1}, 3), doctest::Contains("starting at 0, found 1"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(CsrPattern::from_csr({0, 3}, {0, 1}, 3),
                       doctest::Contains("last row pointer is 3 but there are 2 column indices"), cg::Error);
  CHECK_THROWS_WITH_AS(CsrPattern::from_csr({0, 2}, {0, 5}, 3),
                       doctest::Contains("row 0 names column 5, expected one in [0, 3)"), cg::Error);
  CHECK_THROWS_WITH_AS(CsrMatrix::from_csr({0, 2}, {0, 1}, {1.f}, 3),
                       doctest::Contains("one value per column index (2), found 1"), cg::Error);
  const CsrMatrix a = CsrMatrix::from_csr({0, 2}, {0, 1}, {1.f, 2.f}, 3);
  CHECK_THROWS_WITH_AS(csr_matmul(a, Tensor::ones({4, 2})),
                       doctest::Contains("expected b [3, m] (a has 3 columns), found float32[4, 2]"), cg::Error);
  CHECK_THROWS_WITH_AS(csr_matmul(a, Tensor::ones({3, 2}, DType::F64)), doctest::Contains("different dtypes"),
                       cg::Error);
  Generator gen(1);
  nn::Linear layer(5, 2, gen);
  CHECK_THROWS_WITH_AS(layer.forward(a), doctest::Contains("Linear(5 -> 2): expected a sparse input [N, 5], found [1, 3]"),
                       cg::Error);
}
