// CUDA runtime failures that must stay local: an allocation the GPU cannot hold says how much was
// asked and how much is free, and leaves no error flag behind for the next kernel to report as its
// own; a GEMM with an empty inner dimension (k = 0) is C = beta * C, not a cuBLAS argument error.
#include <doctest/doctest.h>

#include <string>

#include "autograd/allocator.h"
#include "autograd/ops.h"
#include "tests/op_check.h"

using namespace cg;

TEST_CASE("CUDA out-of-memory: the error names the sizes and the next kernel still runs") {
  if (!cg::test::cuda_ready("CUDA out-of-memory message")) return;
  std::string message;
  try {
    cuda_allocate(size_t(1) << 52);  // 4 PiB: more than any GPU holds
  } catch (const std::exception& e) {
    message = e.what();
  }
  INFO(message);
  CHECK(message.find("could not allocate 4294967296 MiB") != std::string::npos);
  CHECK(message.find(" free of ") != std::string::npos);
  const Tensor x = Tensor::full({4, 3}, 3.0).to(Device::CUDA);
  const Tensor y = (x * x + x).to(Device::CPU);  // would throw "out of memory" if the flag stayed set
  CHECK(y.data<float>()[11] == doctest::Approx(12.0));
}

TEST_CASE("CUDA matmul with an empty inner dimension gives zeros, like the CPU") {
  if (!cg::test::cuda_ready("CUDA matmul k = 0")) return;
  for (const bool ta : {false, true})
    for (const bool tb : {false, true}) {
      const Tensor a = Tensor::zeros(ta ? Shape{0, 3} : Shape{3, 0}), b = Tensor::zeros(tb ? Shape{4, 0} : Shape{0, 4});
      const Tensor ag = a.to(Device::CUDA), bg = b.to(Device::CUDA);
      const Tensor c = matmul(ag, bg, ta, tb).to(Device::CPU);
      REQUIRE(c.shape() == Shape{3, 4});
      for (float v : c.to_vector<float>()) CHECK(v == 0.0f);
    }
}
