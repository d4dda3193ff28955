#pragma once
// Error checking for CUDA runtime and cuBLAS calls inside .cu files.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "base/error.h"

#define CG_CUDA_CHECK(call)                                                                          \
  do {                                                                                               \
    cudaError_t cg_err_ = (call);                                                                    \
    if (cg_err_ != cudaSuccess)                                                                      \
      throw ::cg::Error(std::string("CUDA error in ") + #call + ": " + cudaGetErrorString(cg_err_)); \
  } while (0)

#define CG_CUBLAS_CHECK(call)                                                   \
  do {                                                                          \
    cublasStatus_t cg_st_ = (call);                                             \
    if (cg_st_ != CUBLAS_STATUS_SUCCESS)                                        \
      throw ::cg::Error(std::string("cuBLAS error in ") + #call + ": status " + \
                        std::to_string(static_cast<int>(cg_st_)));              \
  } while (0)

// Kernel launches report errors lazily; check right after the launch. A fault inside a kernel
// surfaces only at a later synchronising call, far from its cause: with CELLGRAD_CUDA_SYNC=1 in
// the environment every launch is followed by a device synchronisation, so the error names the
// kernel's launch site (slow; a debugging mode).
#define CG_CUDA_LAUNCH_CHECK() ::cg::kernels::cuda::check_launch(__FILE__, __LINE__)

namespace cg::kernels::cuda {
cublasHandle_t cublas_handle();
void check_launch(const char* file, int line);
}
