#include <cstdio>
#include <cstdlib>
#include <cstring>

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

static std::string mib(size_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

void* raw_malloc(size_t bytes) {
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, bytes);
  if (err == cudaSuccess) return p;
  // A failed cudaMalloc also sets the runtime's last-error flag; left set, the next unrelated
  // launch check would report this out-of-memory as its own failure.
  cudaGetLastError();
  size_t free_bytes = 0, total_bytes = 0;
  std::string where;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess)
    where = " (" + mib(free_bytes) + " free of " + mib(total_bytes) + " on the GPU)";
  else
    cudaGetLastError();
  throw ::cg::Error("CUDA could not allocate " + mib(bytes) + where + ": " + cudaGetErrorString(err));
}

void check_launch(const char* file, int line) {
  static const bool sync_each = [] {
    const char* v = std::getenv("CELLGRAD_CUDA_SYNC");
    return v && std::strcmp(v, "0") != 0 && *v;
  }();
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess && sync_each) err = cudaDeviceSynchronize();
  if (err != cudaSuccess)
    throw ::cg::Error(std::string("CUDA kernel launched at ") + file + ":" + std::to_string(line) + " failed: " +
                      cudaGetErrorString(err) + (sync_each ? "" : " (CELLGRAD_CUDA_SYNC=1 names the failing launch)"));
}
void raw_free(void* p) { CG_CUDA_CHECK(cudaFree(p)); }

void set_device(int device) { CG_CUDA_CHECK(cudaSetDevice(device)); }

void* device_scratch(size_t bytes) {
  thread_local void* area = nullptr;
  thread_local size_t capacity = 0;
  if (bytes > capacity) {
    if (area) raw_free(area);
    area = nullptr;
    capacity = 0;
    area = raw_malloc(bytes);
    capacity = bytes;
  }
  return area;
}
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
