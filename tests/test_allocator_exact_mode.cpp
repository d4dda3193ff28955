// The CUDA allocator's exact mode (CELLGRAD_CUDA_EXACT_ALLOC=1): no size classes, no cache, so
// compute-sanitizer's memcheck sees an overrun past a tensor's end (scripts/gpu_check.sh runs the
// CUDA tests under memcheck in this mode). The size rule and the switch are checked on the CPU.
#include <doctest/doctest.h>

#include "autograd/allocator.h"
#include "tests/op_check.h"

using namespace cg;

TEST_CASE("CUDA allocator: block sizes by size class, or exactly the request in exact mode") {
  CHECK(cuda_block_bytes(1000, false) == 1024);
  CHECK(cuda_block_bytes(1, false) == 512);
  CHECK(cuda_block_bytes(0, false) == 512);
  CHECK(cuda_block_bytes((size_t(1) << 20) + 1, false) == (size_t(2) << 20));
  CHECK(cuda_block_bytes(1000, true) == 1000);
  CHECK(cuda_block_bytes(0, true) == 1);
  CHECK(cuda_block_bytes((size_t(1) << 20) + 1, true) == (size_t(1) << 20) + 1);
}

TEST_CASE("CUDA allocator: CELLGRAD_CUDA_EXACT_ALLOC values that switch exact mode on") {
  for (const char* on : {"1", "true", "yes", "on"}) CHECK(cuda_exact_alloc_requested(on));
  for (const char* off : {"0", "", "false", "no", "2"}) CHECK_FALSE(cuda_exact_alloc_requested(off));
  CHECK_FALSE(cuda_exact_alloc_requested(nullptr));
}

TEST_CASE("CUDA allocator: exact mode asks the driver for every block and caches nothing") {
  const bool before = cuda_exact_alloc();
  set_cuda_exact_alloc(true);
  CHECK(cuda_exact_alloc());
  if (cg::test::cuda_ready("CUDA allocator exact mode")) {
    const CudaAllocatorStats s0 = cuda_allocator_stats();
    void* p = cuda_allocate(1000);
    const CudaAllocatorStats s1 = cuda_allocator_stats();
    CHECK(s1.device_mallocs == s0.device_mallocs + 1);
    CHECK(s1.bytes_in_use == s0.bytes_in_use + 1000);
    cuda_deallocate(p);
    const CudaAllocatorStats s2 = cuda_allocator_stats();
    CHECK(s2.device_frees == s1.device_frees + 1);
    CHECK(s2.bytes_cached == s1.bytes_cached);
    CHECK(s2.bytes_in_use == s0.bytes_in_use);
    void* q = cuda_allocate(1000);  // a fresh cudaMalloc, not a cache hit
    CHECK(cuda_allocator_stats().device_mallocs == s0.device_mallocs + 2);
    CHECK(cuda_allocator_stats().cache_hits == s0.cache_hits);
    // A block keeps the mode it was made in: freed after switching back, it still goes to the driver.
    set_cuda_exact_alloc(false);
    cuda_deallocate(q);
    CHECK(cuda_allocator_stats().device_frees == s0.device_frees + 2);
    // Tensors work in exact mode: a small op on the device and back.
    set_cuda_exact_alloc(true);
    const Tensor x = Tensor::full({3, 5}, 2.0).to(Device::CUDA);
    const Tensor y = (x * x).to(Device::CPU);
    CHECK(y.data<float>()[14] == doctest::Approx(4.0));
  }
  set_cuda_exact_alloc(before);
}
