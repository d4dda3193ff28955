#pragma once
// Thin wrapper over the CUDA runtime so that code compiled by g++ never includes CUDA headers.
// Every call checks its status and throws std::runtime_error naming the call and the CUDA error.
#include <cstddef>
#include <cstdint>
#include <string>

namespace cg::kernels::cuda {

// Number of usable devices; 0 when there is no driver or no GPU (never throws).
int device_count();
std::string device_name();
void* raw_malloc(size_t bytes);
void raw_free(void* p);
void copy_host_to_device(void* dst, const void* src, size_t bytes);
void copy_device_to_host(void* dst, const void* src, size_t bytes);
void copy_device_to_device(void* dst, const void* src, size_t bytes);
void memset_zero(void* p, size_t bytes);
void synchronize();
// Turn TF32 tensor-core math off (exact float32 GEMMs for parity tests) or back on.
void set_tf32(bool enabled);

// Launch configuration shared by the elementwise kernels.
constexpr int kThreads = 256;
inline int blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<int>(b < 65535 * 16 ? (b > 0 ? b : 1) : 65535 * 16);
}

}  // namespace cg::kernels::cuda
