#include "kernels/cuda/check.cuh"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/mask.h"
#include "kernels/cuda/runtime.h"
#include "kernels/random_math.h"
#include "kernels/unary_math.h"

namespace cg::kernels::cuda {
namespace {

__global__ void dropout_kernel(const float* x, float* y, float* mask, int64_t n, uint64_t seed, uint64_t stream,
                               uint64_t offset, float p, float scale) {
  CG_GRID_STRIDE(i, n) {
    const bool drop = philox_bernoulli_at(seed, stream, offset, i, p) != 0.0f;
    const float m = drop ? 0.0f : scale;
    mask[i] = m;
    y[i] = x[i] * m;
  }
}

__global__ void masked_fill_kernel(const float* x, const float* mask, Bcast mode, float value, float* out, int64_t rows,
                                   int64_t cols) {
  CG_GRID_STRIDE(i, rows * cols) {
    const int64_t r = i / cols, c = i % cols;
    out[i] = mask[bcast_index(mode, r, c, cols)] != 0.0f ? value : x[i];
  }
}

__global__ void where_kernel(const float* cond, const float* a, const float* b, float* out, int64_t n) {
  CG_GRID_STRIDE(i, n) out[i] = cond[i] != 0.0f ? a[i] : b[i];
}

__global__ void where_backward_kernel(const float* cond, const float* g, float* ga, float* gb, int64_t n) {
  CG_GRID_STRIDE(i, n) {
    const bool take_a = cond[i] != 0.0f;
    ga[i] = take_a ? g[i] : 0.0f;
    gb[i] = take_a ? 0.0f : g[i];
  }
}

}  // namespace

void dropout_forward(const float* x, float* y, float* mask, int64_t n, uint64_t seed, uint64_t stream, uint64_t offset,
                     float p, float scale) {
  if (n == 0) return;
  dropout_kernel<<<blocks_for(n), kThreads>>>(x, y, mask, n, seed, stream, offset, p, scale);
  CG_CUDA_LAUNCH_CHECK();
}

void masked_fill(const float* x, const float* mask, Bcast mode, float value, float* out, int64_t rows, int64_t cols) {
  if (rows * cols == 0) return;
  masked_fill_kernel<<<blocks_for(rows * cols), kThreads>>>(x, mask, mode, value, out, rows, cols);
  CG_CUDA_LAUNCH_CHECK();
}

void where_forward(const float* cond, const float* a, const float* b, float* out, int64_t n) {
  if (n == 0) return;
  where_kernel<<<blocks_for(n), kThreads>>>(cond, a, b, out, n);
  CG_CUDA_LAUNCH_CHECK();
}

void where_backward(const float* cond, const float* g, float* ga, float* gb, int64_t n) {
  if (n == 0) return;
  where_backward_kernel<<<blocks_for(n), kThreads>>>(cond, g, ga, gb, n);
  CG_CUDA_LAUNCH_CHECK();
}

}  // namespace cg::kernels::cuda
