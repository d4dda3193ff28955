#include <cstdio>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/runtime.h"

namespace cg::kernels::cuda {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

std::string device_name() {
  cudaDeviceProp prop{};
  CG_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  return prop.name;
}

void* raw_malloc(size_t bytes) {
  void* p = nullptr;
  CG_CUDA_CHECK(cudaMalloc(&p, bytes));
  return p;
}
void raw_free(void* p) { CG_CUDA_CHECK(cudaFree(p)); }
void copy_host_to_device(void* dst, const void* src, size_t bytes) {
  CG_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}
void copy_device_to_host(void* dst, const void* src, size_t bytes) {
  CG_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}
void copy_device_to_device(void* dst, const void* src, size_t bytes) {
  CG_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
}
void memset_zero(void* p, size_t bytes) { CG_CUDA_CHECK(cudaMemset(p, 0, bytes)); }
void synchronize() { CG_CUDA_CHECK(cudaDeviceSynchronize()); }

cublasHandle_t cublas_handle() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h;
    CG_CUBLAS_CHECK(cublasCreate(&h));
    return h;
  }();
  return handle;
}

void set_tf32(bool enabled) {
  CG_CUBLAS_CHECK(cublasSetMathMode(cublas_handle(), enabled ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
}

ExactFloat32Gemm::ExactFloat32Gemm() {
  cublasMath_t mode;
  CG_CUBLAS_CHECK(cublasGetMathMode(cublas_handle(), &mode));
  saved_mode_ = static_cast<int>(mode);
  set_tf32(false);
}

// A destructor must not throw: a failure to restore is reported, not raised.
ExactFloat32Gemm::~ExactFloat32Gemm() {
  const cublasStatus_t st = cublasSetMathMode(cublas_handle(), static_cast<cublasMath_t>(saved_mode_));
  if (st != CUBLAS_STATUS_SUCCESS)
    std::fprintf(stderr, "cellgrad: cannot restore the cuBLAS math mode (status %d)\n", static_cast<int>(st));
}

}  // namespace cg::kernels::cuda
