#include "kernels/cuda/check.cuh"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/runtime.h"
#include "kernels/unary_math.h"

namespace cg::kernels::cuda {
namespace {

__global__ void unary_forward_kernel(UnaryOp op, float a, float b, const float* x, float* y, int64_t n) {
  CG_GRID_STRIDE(i, n) y[i] = unary_value<float>(op, x[i], a, b);
}
__global__ void unary_backward_kernel(UnaryOp op, float a, float b, const float* x, const float* y, const float* gy,
                                      float* gx, int64_t n) {
  CG_GRID_STRIDE(i, n) gx[i] = gy[i] * unary_derivative<float>(op, x[i], y[i], a, b);
}
__global__ void binary_kernel(BinaryOp op, const float* a, Bcast am, const float* b, Bcast bm, float* out, int64_t rows,
                              int64_t cols) {
  CG_GRID_STRIDE(i, rows * cols) {
    const int64_t r = i / cols, c = i % cols;
    out[i] = binary_value<float>(op, a[bcast_index(am, r, c, cols)], b[bcast_index(bm, r, c, cols)]);
  }
}
__global__ void broadcast_kernel(const float* x, Bcast mode, float* out, int64_t rows, int64_t cols) {
  CG_GRID_STRIDE(i, rows * cols) out[i] = x[bcast_index(mode, i / cols, i % cols, cols)];
}
template <class T> __global__ void fill_kernel(T* x, T v, int64_t n) { CG_GRID_STRIDE(i, n) x[i] = v; }
__global__ void axpy_kernel(float alpha, const float* x, float* y, int64_t n) {
  CG_GRID_STRIDE(i, n) y[i] += alpha * x[i];
}
__global__ void scale_kernel(float* x, float alpha, int64_t n) { CG_GRID_STRIDE(i, n) x[i] *= alpha; }

}  // namespace

void unary_forward(UnaryOp op, UnaryParams p, const float* x, float* y, int64_t n) {
  if (n == 0) return;
  unary_forward_kernel<<<blocks_for(n), kThreads>>>(op, (float)p.a, (float)p.b, x, y, n);
  CG_CUDA_LAUNCH_CHECK();
}
void unary_backward(UnaryOp op, UnaryParams p, const float* x, const float* y, const float* gy, float* gx, int64_t n) {
  if (n == 0) return;
  unary_backward_kernel<<<blocks_for(n), kThreads>>>(op, (float)p.a, (float)p.b, x, y, gy, gx, n);
  CG_CUDA_LAUNCH_CHECK();
}
void binary_forward(BinaryOp op, const float* a, Bcast am, const float* b, Bcast bm, float* out, int64_t rows,
                    int64_t cols) {
  if (rows * cols == 0) return;
  binary_kernel<<<blocks_for(rows * cols), kThreads>>>(op, a, am, b, bm, out, rows, cols);
  CG_CUDA_LAUNCH_CHECK();
}
void broadcast_copy(const float* x, Bcast mode, float* out, int64_t rows, int64_t cols) {
  if (rows * cols == 0) return;
  broadcast_kernel<<<blocks_for(rows * cols), kThreads>>>(x, mode, out, rows, cols);
  CG_CUDA_LAUNCH_CHECK();
}
void fill(float* x, float value, int64_t n) {
  if (n == 0) return;
  fill_kernel<float><<<blocks_for(n), kThreads>>>(x, value, n);
  CG_CUDA_LAUNCH_CHECK();
}
void fill_i32(int32_t* x, int32_t value, int64_t n) {
  if (n == 0) return;
  fill_kernel<int32_t><<<blocks_for(n), kThreads>>>(x, value, n);
  CG_CUDA_LAUNCH_CHECK();
}
void axpy(float alpha, const float* x, float* y, int64_t n) {
  if (n == 0) return;
  axpy_kernel<<<blocks_for(n), kThreads>>>(alpha, x, y, n);
  CG_CUDA_LAUNCH_CHECK();
}
void scale(float* x, float alpha, int64_t n) {
  if (n == 0) return;
  scale_kernel<<<blocks_for(n), kThreads>>>(x, alpha, n);
  CG_CUDA_LAUNCH_CHECK();
}

}  // namespace cg::kernels::cuda
