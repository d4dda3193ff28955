#pragma once
// The grid-stride loop every elementwise kernel uses: thread t of the grid handles elements
// t, t + T, t + 2T, ... (T = threads in the grid), so one launch of a bounded grid covers any n.
// 64-bit indices, so tensors past 2^31 elements work.
#include <cstdint>

namespace cg::kernels::cuda {

__device__ inline int64_t grid_thread_index() { return blockIdx.x * (int64_t)blockDim.x + threadIdx.x; }
__device__ inline int64_t grid_thread_count() { return (int64_t)gridDim.x * blockDim.x; }

}  // namespace cg::kernels::cuda

// CG_GRID_STRIDE(i, n) { ... i ... }: this thread's elements of [0, n).
#define CG_GRID_STRIDE(i, n) \
  for (int64_t i = ::cg::kernels::cuda::grid_thread_index(); i < (n); i += ::cg::kernels::cuda::grid_thread_count())
