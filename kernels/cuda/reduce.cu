#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/reduce.h"
#include "kernels/cuda/runtime.h"

namespace cg::kernels::cuda {
namespace {

// One block per row (Rows) or a single block over everything (All).
__global__ void sum_rows_kernel(const float* x, float* out, int64_t rows, int64_t cols, double scale) {
  const int64_t r = blockIdx.x;
  double s = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) s += x[r * cols + c];
  s = block_sum(s);
  if (threadIdx.x == 0) out[r] = static_cast<float>(s * scale);
}
// One thread per column, walking the rows: coalesced across threads.
__global__ void sum_cols_kernel(const float* x, float* out, int64_t rows, int64_t cols, double scale) {
  const int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (c >= cols) return;
  double s = 0;
  for (int64_t r = 0; r < rows; ++r) s += x[r * cols + c];
  out[c] = static_cast<float>(s * scale);
}
__global__ void max_rows_kernel(const float* x, float* out, int32_t* index, int64_t rows, int64_t cols) {
  const int64_t r = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (r >= rows) return;
  int64_t best = 0;
  for (int64_t c = 1; c < cols; ++c)
    if (x[r * cols + c] > x[r * cols + best]) best = c;
  out[r] = x[r * cols + best];
  index[r] = static_cast<int32_t>(best);
}
__global__ void max_rows_backward_kernel(const float* gy, const int32_t* index, float* gx, int64_t rows, int64_t cols) {
  CG_GRID_STRIDE(i, rows * cols) {
    const int64_t r = i / cols, c = i % cols;
    gx[i] = (c == index[r]) ? gy[r] : 0.0f;
  }
}

}  // namespace

void reduce_sum(const float* x, float* out, int64_t rows, int64_t cols, ReduceAxis axis, double scale) {
  switch (axis) {
    case ReduceAxis::All:
      // Treat the whole array as one long row.
      sum_rows_kernel<<<1, 1024>>>(x, out, 1, rows * cols, scale);
      break;
    case ReduceAxis::Rows:
      if (rows == 0) return;
      sum_rows_kernel<<<static_cast<unsigned>(rows), 256>>>(x, out, rows, cols, scale);
      break;
    case ReduceAxis::Cols:
      if (cols == 0) return;
      sum_cols_kernel<<<static_cast<unsigned>((cols + 255) / 256), 256>>>(x, out, rows, cols, scale);
      break;
  }
  CG_CUDA_LAUNCH_CHECK();
}

void max_rows(const float* x, float* out, int32_t* index, int64_t rows, int64_t cols) {
  if (rows == 0) return;
  max_rows_kernel<<<static_cast<unsigned>((rows + 255) / 256), 256>>>(x, out, index, rows, cols);
  CG_CUDA_LAUNCH_CHECK();
}
void max_rows_backward(const float* gy, const int32_t* index, float* gx, int64_t rows, int64_t cols) {
  if (rows * cols == 0) return;
  max_rows_backward_kernel<<<blocks_for(rows * cols), kThreads>>>(gy, index, gx, rows, cols);
  CG_CUDA_LAUNCH_CHECK();
}

}  // namespace cg::kernels::cuda
