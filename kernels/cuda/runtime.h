#pragma once
// Thin wrapper over the CUDA runtime so that code compiled by g++ never includes CUDA headers.
// Every call checks its status and throws cg::Error naming the call and the CUDA error.
#include <cstddef>
#include <cstdint>
#include <string>

namespace cg::kernels::cuda {

// Number of usable devices; 0 when there is no driver or no GPU (never throws).
int device_count();
std::string device_name();
// The GPU this process uses from now on (call before any other CUDA work).
void set_device(int device);
void* raw_malloc(size_t bytes);
void raw_free(void* p);
void copy_host_to_device(void* dst, const void* src, size_t bytes);
void copy_device_to_host(void* dst, const void* src, size_t bytes);
void copy_device_to_device(void* dst, const void* src, size_t bytes);
void memset_zero(void* p, size_t bytes);
void synchronize();
// Turn TF32 tensor-core math on or off for float32 GEMMs, for the rest of the process.
void set_tf32(bool enabled);

// Exact float32 GEMMs (TF32 off) while it lives, for comparisons against the CPU; the cuBLAS
// math mode set before comes back afterwards, so a check never changes it for later code.
class ExactFloat32Gemm {
 public:
  ExactFloat32Gemm();
  ~ExactFloat32Gemm();
  ExactFloat32Gemm(const ExactFloat32Gemm&) = delete;
  ExactFloat32Gemm& operator=(const ExactFloat32Gemm&) = delete;

 private:
  int saved_mode_;  // a cublasMath_t, held as int so that this header needs no CUDA header
};

// A device scratch area per host thread, grown to the largest request and kept for the process
// (kernels that need temporary device memory on every call: reduction partials, the ordered
// scatter's index table). Safe to reuse between calls because every kernel runs on the default
// stream, so one call's kernels finish reading before the next call's overwrite it. The pointer
// is valid until the next device_scratch call on the same thread.
void* device_scratch(size_t bytes);

// Launch configuration shared by the elementwise kernels.
constexpr int kThreads = 256;
inline int blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<int>(b < 65535 * 16 ? (b > 0 ? b : 1) : 65535 * 16);
}

}  // namespace cg::kernels::cuda
