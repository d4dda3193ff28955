#include "kernels/cuda/check.cuh"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/index.h"
#include "kernels/cuda/runtime.h"

namespace cg::kernels::cuda {
namespace {

__global__ void gather_rows_kernel(const float* x, const int32_t* index, float* out, int64_t n_index, int64_t cols) {
  const int64_t n = n_index * cols;
  CG_GRID_STRIDE(i, n) {
    const int64_t r = i / cols, c = i % cols;
    out[i] = x[static_cast<int64_t>(index[r]) * cols + c];
  }
}

__global__ void scatter_add_rows_kernel(const float* g, const int32_t* index, float* gx, int64_t n_index,
                                        int64_t cols) {
  const int64_t n = n_index * cols;
  CG_GRID_STRIDE(i, n) {
    const int64_t r = i / cols, c = i % cols;
    atomicAdd(gx + static_cast<int64_t>(index[r]) * cols + c, g[i]);
  }
}

// Records the smallest bad position (atomicMin), so the error can name the first offender.
__global__ void range_check_kernel(const int32_t* index, int64_t n, int64_t limit, unsigned long long* first_bad) {
  CG_GRID_STRIDE(i, n)
  if (index[i] < 0 || index[i] >= limit) atomicMin(first_bad, static_cast<unsigned long long>(i));
}

}  // namespace

void gather_rows(const float* x, const int32_t* index, float* out, int64_t n_index, int64_t cols) {
  if (n_index * cols == 0) return;
  gather_rows_kernel<<<blocks_for(n_index * cols), kThreads>>>(x, index, out, n_index, cols);
  CG_CUDA_LAUNCH_CHECK();
}

void scatter_add_rows(const float* g, const int32_t* index, float* gx, int64_t n_index, int64_t cols) {
  if (n_index * cols == 0) return;
  scatter_add_rows_kernel<<<blocks_for(n_index * cols), kThreads>>>(g, index, gx, n_index, cols);
  CG_CUDA_LAUNCH_CHECK();
}

int64_t first_out_of_range(const int32_t* index, int64_t n, int64_t limit) {
  if (n == 0) return -1;
  // One device word per thread for the whole process (gather_rows checks every call, several
  // times per forward pass): set to "none" (all ones) by a memset, not a cudaMalloc and upload.
  thread_local unsigned long long* flag =
      static_cast<unsigned long long*>(raw_malloc(sizeof(unsigned long long)));
  CG_CUDA_CHECK(cudaMemset(flag, 0xFF, sizeof(unsigned long long)));
  range_check_kernel<<<blocks_for(n), kThreads>>>(index, n, limit, flag);
  CG_CUDA_LAUNCH_CHECK();
  unsigned long long host = 0;
  copy_device_to_host(&host, flag, sizeof host);
  return host == ~0ull ? -1 : static_cast<int64_t>(host);
}

}  // namespace cg::kernels::cuda
