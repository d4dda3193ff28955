#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/softmax.h"

namespace cg::kernels::cuda {
namespace {

// One block per row. Mirrors kernels/cpu/softmax.cpp: float exp of the max-shifted value, a
// double sum, then one rounded scale (1/sum) or shift (log sum) for the row. Each thread
// revisits exactly the columns it wrote, so rescaling y in place needs no extra barrier.
__global__ void softmax_rows_kernel(const float* x, float* y, int64_t cols, bool log) {
  const float* xr = x + blockIdx.x * cols;
  float* yr = y + blockIdx.x * cols;
  float m = -INFINITY;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, xr[c]);
  m = block_max(m);
  double s = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const float e = expf(xr[c] - m);
    if (!log) yr[c] = e;
    s += e;
  }
  s = block_sum(s);
  if (log) {
    const float log_sum = static_cast<float>(::log(s));
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = xr[c] - m - log_sum;
  } else {
    const float inv = static_cast<float>(1.0 / s);
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) yr[c] *= inv;
  }
}

__global__ void softmax_rows_backward_kernel(const float* gy, const float* y, float* gx, int64_t cols, bool log) {
  const float* gr = gy + blockIdx.x * cols;
  const float* yr = y + blockIdx.x * cols;
  float* out = gx + blockIdx.x * cols;
  double s = 0;
  if (log) {
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) s += gr[c];
    const float sum_g = static_cast<float>(block_sum(s));
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) out[c] = gr[c] - expf(yr[c]) * sum_g;
  } else {
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) s += gr[c] * yr[c];
    const float dot = static_cast<float>(block_sum(s));
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) out[c] = yr[c] * (gr[c] - dot);
  }
}

}  // namespace

void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols, bool log) {
  if (rows == 0 || cols == 0) return;
  softmax_rows_kernel<<<static_cast<unsigned>(rows), threads_for_row(cols)>>>(x, y, cols, log);
  CG_CUDA_LAUNCH_CHECK();
}

void softmax_rows_backward(const float* gy, const float* y, float* gx, int64_t rows, int64_t cols, bool log) {
  if (rows == 0 || cols == 0) return;
  softmax_rows_backward_kernel<<<static_cast<unsigned>(rows), threads_for_row(cols)>>>(gy, y, gx, cols, log);
  CG_CUDA_LAUNCH_CHECK();
}

}  // namespace cg::kernels::cuda
