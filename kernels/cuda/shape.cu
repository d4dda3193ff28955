#include "kernels/cuda/check.cuh"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/runtime.h"
#include "kernels/cuda/shape.h"

namespace cg::kernels::cuda {
namespace {

__global__ void copy_block_kernel(const float* src, int64_t src_ld, float* dst, int64_t dst_ld, int64_t rows,
                                  int64_t cols) {
  const int64_t n = rows * cols;
  CG_GRID_STRIDE(i, n) {
    const int64_t r = i / cols, c = i % cols;
    dst[r * dst_ld + c] = src[r * src_ld + c];
  }
}

// Classic shared-memory tile transpose: reads and writes are both coalesced; the +1 column of
// padding keeps the column reads of the tile free of bank conflicts.
constexpr int kTile = 32, kRowsPerPass = 8;
__global__ void transpose_kernel(const float* x, float* y, int64_t rows, int64_t cols) {
  __shared__ float tile[kTile][kTile + 1];
  const int64_t c0 = (int64_t)blockIdx.x * kTile, r0 = (int64_t)blockIdx.y * kTile;
  for (int k = threadIdx.y; k < kTile; k += kRowsPerPass) {
    const int64_t r = r0 + k, c = c0 + threadIdx.x;
    if (r < rows && c < cols) tile[k][threadIdx.x] = x[r * cols + c];
  }
  __syncthreads();
  for (int k = threadIdx.y; k < kTile; k += kRowsPerPass) {
    const int64_t out_r = c0 + k, out_c = r0 + threadIdx.x;  // y is [cols, rows]
    if (out_r < cols && out_c < rows) y[out_r * rows + out_c] = tile[threadIdx.x][k];
  }
}

}  // namespace

void copy_block(const float* src, int64_t src_ld, float* dst, int64_t dst_ld, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  copy_block_kernel<<<blocks_for(rows * cols), kThreads>>>(src, src_ld, dst, dst_ld, rows, cols);
  CG_CUDA_LAUNCH_CHECK();
}

void transpose(const float* x, float* y, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  // grid.y is limited to 65535 tiles (about 2M rows); larger shapes are beyond this engine's use.
  const dim3 grid(static_cast<unsigned>((cols + kTile - 1) / kTile), static_cast<unsigned>((rows + kTile - 1) / kTile));
  if (grid.y > 65535u) throw Error("cuda transpose: more than 2,097,120 rows are not supported");
  transpose_kernel<<<grid, dim3(kTile, kRowsPerPass)>>>(x, y, rows, cols);
  CG_CUDA_LAUNCH_CHECK();
}

}  // namespace cg::kernels::cuda
