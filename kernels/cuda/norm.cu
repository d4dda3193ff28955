#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/norm.h"
#include "kernels/cuda/runtime.h"
#include "kernels/norm_math.h"

// Twin of kernels/cpu/norm.cpp: the same double sums, roundings to float and formulas (from
// norm_math.h); only the order of the double additions differs.
namespace cg::kernels::cuda {
namespace {

// Column reductions use 32 x kColRows blocks: threadIdx.x picks one of 32 adjacent columns (a
// warp reads 128 contiguous bytes of a row), threadIdx.y strides over the rows, and the
// kColRows partial sums of a column meet in shared memory.
constexpr int kColRows = 16;
inline unsigned col_blocks(int64_t c) { return static_cast<unsigned>((c + 31) / 32); }

// Sums the per-thread partials of each column over threadIdx.y; the result is valid in the
// threads with threadIdx.y == 0. `scratch` is [kColRows][33] (33 avoids bank conflicts).
__device__ __forceinline__ double column_total(double v, double (*scratch)[33]) {
  scratch[threadIdx.y][threadIdx.x] = v;
  __syncthreads();
  double t = 0;
  if (threadIdx.y == 0)
    for (int k = 0; k < kColRows; ++k) t += scratch[k][threadIdx.x];
  __syncthreads();
  return t;
}

// ---- layer norm --------------------------------------------------------------------------------
__global__ void layer_norm_forward_kernel(const float* x, const float* gamma, const float* beta, float* y, float* mean,
                                          float* rstd, int64_t cols, double eps) {
  const int64_t r = blockIdx.x;
  const float* xr = x + r * cols;
  double s = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) s += xr[c];
  const double m = block_sum(s) / static_cast<double>(cols);
  double ss = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const double d = static_cast<double>(xr[c]) - m;
    ss += d * d;
  }
  ss = block_sum(ss);
  const float mean_t = static_cast<float>(m);
  const float rstd_t = static_cast<float>(norm_inv_std(ss / static_cast<double>(cols), eps));
  if (threadIdx.x == 0) {
    mean[r] = mean_t;
    rstd[r] = rstd_t;
  }
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
    y[r * cols + c] = norm_affine<float>(xr[c], mean_t, rstd_t, gamma, beta, c);
}

__global__ void layer_norm_backward_rows_kernel(const float* gy, const float* x, const float* mean, const float* rstd,
                                                const float* gamma, float* gx, int64_t cols) {
  const int64_t r = blockIdx.x;
  const float* gr = gy + r * cols;
  const float* xr = x + r * cols;
  const float m = mean[r], rs = rstd[r];
  double sg = 0, sgx = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const float g = gamma ? gr[c] * gamma[c] : gr[c];
    const float xhat = (xr[c] - m) * rs;
    sg += g;
    sgx += g * xhat;
  }
  const float mean_g = static_cast<float>(block_sum(sg) / static_cast<double>(cols));
  const float mean_gx = static_cast<float>(block_sum(sgx) / static_cast<double>(cols));
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const float g = gamma ? gr[c] * gamma[c] : gr[c];
    const float xhat = (xr[c] - m) * rs;
    gx[r * cols + c] = norm_input_grad<float>(rs, g, xhat, mean_g, mean_gx);
  }
}

// Column sums of gy and gy * xhat over n rows of a c-column matrix. kRowStats: mean/rstd are per
// row (layer norm's dgamma/dbeta); otherwise per column (batch norm). Outputs may be null.
template <bool kRowStats>
__global__ void grad_column_sums_kernel(const float* gy, const float* x, const float* mean, const float* rstd,
                                        float* sum_gy, float* sum_gy_xhat, int64_t n, int64_t c) {
  __shared__ double scratch[kColRows][33];
  const int64_t j = blockIdx.x * 32 + threadIdx.x;
  double a = 0, b = 0;
  if (j < c)
    for (int64_t r = threadIdx.y; r < n; r += kColRows) {
      const int64_t s = kRowStats ? r : j;
      const float g = gy[r * c + j];
      a += g;
      b += g * ((x[r * c + j] - mean[s]) * rstd[s]);
    }
  a = column_total(a, scratch);
  b = column_total(b, scratch);
  if (threadIdx.y == 0 && j < c) {
    if (sum_gy) sum_gy[j] = static_cast<float>(a);
    if (sum_gy_xhat) sum_gy_xhat[j] = static_cast<float>(b);
  }
}

// ---- batch norm ----------------------------------------------------------------------------------
// Mean, then the mean squared deviation from it (two passes like the CPU), per column.
__global__ void batch_norm_stats_kernel(const float* x, float* mean, float* var, int64_t n, int64_t c) {
  __shared__ double scratch[kColRows][33];
  __shared__ double col_mean[32];
  const int64_t j = blockIdx.x * 32 + threadIdx.x;
  double s = 0;
  if (j < c)
    for (int64_t r = threadIdx.y; r < n; r += kColRows) s += x[r * c + j];
  s = column_total(s, scratch);
  if (threadIdx.y == 0) col_mean[threadIdx.x] = s / static_cast<double>(n);
  __syncthreads();
  const double m = col_mean[threadIdx.x];
  double ss = 0;
  if (j < c)
    for (int64_t r = threadIdx.y; r < n; r += kColRows) {
      const double d = static_cast<double>(x[r * c + j]) - m;
      ss += d * d;
    }
  ss = column_total(ss, scratch);
  if (threadIdx.y == 0 && j < c) {
    mean[j] = static_cast<float>(m);
    var[j] = static_cast<float>(ss / static_cast<double>(n));
  }
}

__global__ void batch_norm_inv_std_kernel(const float* var, float* rstd, int64_t c, double eps) {
  CG_GRID_STRIDE(j, c) rstd[j] = static_cast<float>(norm_inv_std(var[j], eps));
}

__global__ void batch_norm_update_running_kernel(float* running_mean, float* running_var, const float* mean,
                                                 const float* var, int64_t n, int64_t c, double momentum) {
  CG_GRID_STRIDE(j, c) {
    running_mean[j] = static_cast<float>(running_update(running_mean[j], mean[j], momentum));
    running_var[j] = static_cast<float>(running_update(running_var[j], unbiased_from_biased(var[j], n), momentum));
  }
}

__global__ void batch_norm_apply_kernel(const float* x, const float* mean, const float* rstd, const float* gamma,
                                        const float* beta, float* y, int64_t n, int64_t c) {
  CG_GRID_STRIDE(i, n * c) {
    const int64_t j = i % c;
    y[i] = norm_affine<float>(x[i], mean[j], rstd[j], gamma, beta, j);
  }
}

__global__ void batch_norm_input_grad_kernel(const float* gy, const float* x, const float* mean, const float* rstd,
                                             const float* gamma, const float* sum_gy, const float* sum_gy_xhat,
                                             float* gx, int64_t n, int64_t c, bool training) {
  CG_GRID_STRIDE(i, n * c) {
    const int64_t j = i % c;
    const float scale = gamma ? gamma[j] * rstd[j] : rstd[j];
    const float g = gy[i];
    if (training) {
      const float xhat = (x[i] - mean[j]) * rstd[j];
      const float mean_g = static_cast<float>(static_cast<double>(sum_gy[j]) / static_cast<double>(n));
      const float mean_gx = static_cast<float>(static_cast<double>(sum_gy_xhat[j]) / static_cast<double>(n));
      gx[i] = norm_input_grad<float>(scale, g, xhat, mean_g, mean_gx);
    } else {
      gx[i] = scale * g;
    }
  }
}

// ---- l2 normalisation -------------------------------------------------------------------------------
__global__ void l2_normalize_rows_kernel(const float* x, float* y, float* norm, int64_t cols, double eps) {
  const int64_t r = blockIdx.x;
  const float* xr = x + r * cols;
  double ss = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) ss += static_cast<double>(xr[c]) * xr[c];
  const float nrm = static_cast<float>(::sqrt(block_sum(ss)));
  if (threadIdx.x == 0) norm[r] = nrm;
  const float inv = static_cast<float>(l2_inv_divisor(nrm, eps));
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) y[r * cols + c] = xr[c] * inv;
}

__global__ void l2_normalize_rows_backward_kernel(const float* gy, const float* y, const float* norm, float* gx,
                                                  int64_t cols, double eps) {
  const int64_t r = blockIdx.x;
  const float* gr = gy + r * cols;
  const float* yr = y + r * cols;
  float* out = gx + r * cols;
  const float inv = static_cast<float>(l2_inv_divisor(norm[r], eps));
  // The branch is uniform over the block, so skipping block_sum in it is safe.
  if (l2_is_clamped(norm[r], eps)) {
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) out[c] = gr[c] * inv;
    return;
  }
  double s = 0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) s += gr[c] * yr[c];
  const float dot = static_cast<float>(block_sum(s));
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) out[c] = (gr[c] - yr[c] * dot) * inv;
}

}  // namespace

void layer_norm_forward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                        int64_t rows, int64_t cols, double eps) {
  if (rows == 0 || cols == 0) return;
  layer_norm_forward_kernel<<<static_cast<unsigned>(rows), threads_for_row(cols)>>>(x, gamma, beta, y, mean, rstd, cols,
                                                                                    eps);
  CG_CUDA_LAUNCH_CHECK();
}

void layer_norm_backward(const float* gy, const float* x, const float* mean, const float* rstd, const float* gamma,
                         float* gx, float* dgamma, float* dbeta, int64_t rows, int64_t cols) {
  if (cols == 0) return;
  if (gx && rows > 0) {
    layer_norm_backward_rows_kernel<<<static_cast<unsigned>(rows), threads_for_row(cols)>>>(gy, x, mean, rstd, gamma,
                                                                                            gx, cols);
    CG_CUDA_LAUNCH_CHECK();
  }
  if (dgamma || dbeta) {
    // rows == 0 still launches: the sums are then zero, as on the CPU.
    grad_column_sums_kernel<true>
        <<<col_blocks(cols), dim3(32, kColRows)>>>(gy, x, mean, rstd, dbeta, dgamma, rows, cols);
    CG_CUDA_LAUNCH_CHECK();
  }
}

void batch_norm_stats(const float* x, float* mean, float* var, int64_t n, int64_t c) {
  if (c == 0) return;
  batch_norm_stats_kernel<<<col_blocks(c), dim3(32, kColRows)>>>(x, mean, var, n, c);
  CG_CUDA_LAUNCH_CHECK();
}

void batch_norm_inv_std(const float* var, float* rstd, int64_t c, double eps) {
  if (c == 0) return;
  batch_norm_inv_std_kernel<<<blocks_for(c), kThreads>>>(var, rstd, c, eps);
  CG_CUDA_LAUNCH_CHECK();
}

void batch_norm_update_running(float* running_mean, float* running_var, const float* mean, const float* var, int64_t n,
                               int64_t c, double momentum) {
  if (c == 0) return;
  batch_norm_update_running_kernel<<<blocks_for(c), kThreads>>>(running_mean, running_var, mean, var, n, c, momentum);
  CG_CUDA_LAUNCH_CHECK();
}

void batch_norm_apply(const float* x, const float* mean, const float* rstd, const float* gamma, const float* beta,
                      float* y, int64_t n, int64_t c) {
  if (n * c == 0) return;
  batch_norm_apply_kernel<<<blocks_for(n * c), kThreads>>>(x, mean, rstd, gamma, beta, y, n, c);
  CG_CUDA_LAUNCH_CHECK();
}

void batch_norm_backward(const float* gy, const float* x, const float* mean, const float* rstd, const float* gamma,
                         float* gx, float* sum_gy, float* sum_gy_xhat, int64_t n, int64_t c, bool training) {
  if (c == 0) return;
  grad_column_sums_kernel<false><<<col_blocks(c), dim3(32, kColRows)>>>(gy, x, mean, rstd, sum_gy, sum_gy_xhat, n, c);
  CG_CUDA_LAUNCH_CHECK();
  if (!gx || n == 0) return;
  batch_norm_input_grad_kernel<<<blocks_for(n * c), kThreads>>>(gy, x, mean, rstd, gamma, sum_gy, sum_gy_xhat, gx, n, c,
                                                                training);
  CG_CUDA_LAUNCH_CHECK();
}

void l2_normalize_rows(const float* x, float* y, float* norm, int64_t rows, int64_t cols, double eps) {
  if (rows == 0) return;
  if (cols == 0) {
    // Empty rows still have a norm (0), as on the CPU.
    memset_zero(norm, static_cast<size_t>(rows) * sizeof(float));
    return;
  }
  l2_normalize_rows_kernel<<<static_cast<unsigned>(rows), threads_for_row(cols)>>>(x, y, norm, cols, eps);
  CG_CUDA_LAUNCH_CHECK();
}

void l2_normalize_rows_backward(const float* gy, const float* y, const float* norm, float* gx, int64_t rows,
                                int64_t cols, double eps) {
  if (rows == 0 || cols == 0) return;
  l2_normalize_rows_backward_kernel<<<static_cast<unsigned>(rows), threads_for_row(cols)>>>(gy, y, norm, gx, cols, eps);
  CG_CUDA_LAUNCH_CHECK();
}

}  // namespace cg::kernels::cuda
