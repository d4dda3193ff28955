#pragma once
// Block-wide reductions for kernels that give one block to one row (reduce, softmax, norm).
// Requirements: blockDim.x is a multiple of 32 and at most 1024, blockDim.y == 1, and every
// thread of the block calls the function (it synchronises the block). Every thread gets the
// result, and the shared scratch is free again on return, so calls may follow one another.
#include <math.h>

#include <cstdint>

namespace cg::kernels::cuda {

// Sum in double: row sums are accumulated in double on the CPU too, which keeps parity tight.
__device__ __forceinline__ double block_sum(double v) {
  __shared__ double shared[32];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  const int warps = (blockDim.x + 31) / 32;
  v = threadIdx.x < warps ? shared[threadIdx.x] : 0.0;
  if (warp == 0)
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  if (threadIdx.x == 0) shared[0] = v;
  __syncthreads();
  v = shared[0];
  __syncthreads();
  return v;
}

// Maximum; -inf is the identity, so threads with no element of the row contribute nothing.
__device__ __forceinline__ float block_max(float v) {
  __shared__ float shared[32];
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  const int warps = (blockDim.x + 31) / 32;
  v = threadIdx.x < warps ? shared[threadIdx.x] : -INFINITY;
  if (warp == 0)
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
  if (threadIdx.x == 0) shared[0] = v;
  __syncthreads();
  v = shared[0];
  __syncthreads();
  return v;
}

// Threads for a one-block-per-row kernel: enough to cover short rows with whole warps, capped
// at 512 so long rows are walked with a stride (and several blocks fit on one SM).
inline unsigned threads_for_row(int64_t cols) {
  const int64_t warps = (cols + 31) / 32;
  return static_cast<unsigned>(32 * (warps < 1 ? 1 : (warps > 16 ? 16 : warps)));
}

}  // namespace cg::kernels::cuda
