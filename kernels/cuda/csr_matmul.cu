#include "kernels/cuda/check.cuh"
#include "kernels/cuda/csr_matmul.h"
#include "kernels/cuda/runtime.h"

namespace cg::kernels::cuda {
namespace {

constexpr int kRowThreads = 128;

// Block r: out[r, :] = sum over row r's entries e of values[e] * b[col_index[e], :].
__global__ void forward_kernel(CsrIndex a, const float* values, int64_t rows, const float* b, int64_t m, float* out) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int32_t lo = a.row_ptr[r], hi = a.row_ptr[r + 1];
    for (int64_t j = threadIdx.x; j < m; j += blockDim.x) {
      float acc = 0.f;
      for (int32_t e = lo; e < hi; ++e) acc += values[e] * b[static_cast<int64_t>(a.col_index[e]) * m + j];
      out[r * m + j] = acc;
    }
  }
}

// Block c: grad_b[c, :] = sum over column c's entries e (ascending) of values[e] * grad_out[row(e), :].
__global__ void backward_b_kernel(CsrIndex a, const float* values, int64_t cols, const float* grad_out, int64_t m,
                                  float* grad_b) {
  for (int64_t c = blockIdx.x; c < cols; c += gridDim.x) {
    const int32_t lo = a.col_ptr[c], hi = a.col_ptr[c + 1];
    for (int64_t j = threadIdx.x; j < m; j += blockDim.x) {
      float acc = 0.f;
      for (int32_t k = lo; k < hi; ++k) {
        const int32_t e = a.col_entries[k];
        acc += values[e] * grad_out[static_cast<int64_t>(a.entry_row[e]) * m + j];
      }
      grad_b[c * m + j] = acc;
    }
  }
}

int row_blocks(int64_t rows) { return static_cast<int>(rows < 65535 ? rows : 65535); }

}  // namespace

void csr_matmul_forward(const CsrIndex& a, const float* values, int64_t rows, int64_t cols, const float* b, int64_t m,
                        float* out) {
  if (rows == 0 || m == 0) return;
  forward_kernel<<<row_blocks(rows), kRowThreads>>>(a, values, rows, b, m, out);
  CG_CUDA_LAUNCH_CHECK();
}

void csr_matmul_backward_b(const CsrIndex& a, const float* values, int64_t rows, int64_t cols, const float* grad_out,
                           int64_t m, float* grad_b) {
  if (cols == 0 || m == 0) return;
  backward_b_kernel<<<row_blocks(cols), kRowThreads>>>(a, values, cols, grad_out, m, grad_b);
  CG_CUDA_LAUNCH_CHECK();
}

}  // namespace cg::kernels::cuda
