#include "autograd/storage.h"

#include <atomic>

#include "autograd/allocator.h"
#include "autograd/error.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/runtime.h"
#endif

namespace cg {

bool cuda_available() {
#ifdef CELLGRAD_CUDA
  static const bool available = kernels::cuda::device_count() > 0;
  return available;
#else
  return false;
#endif
}

namespace {
std::atomic<bool> g_deterministic{false};
}
void set_deterministic(bool on) { g_deterministic = on; }
bool deterministic() { return g_deterministic.load(); }

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (device == Device::CPU) {
    data_ = cpu_allocate(bytes);
  } else {
    CG_CHECK(cuda_available(), "cannot allocate on cuda: " << (
#ifdef CELLGRAD_CUDA
                                   "no CUDA device was found"
#else
                                   "this build has no CUDA support"
#endif
                                   ));
    data_ = cuda_allocate(bytes);
  }
}

Storage::~Storage() {
  if (device_ == Device::CPU) cpu_deallocate(data_, bytes_);
  else cuda_deallocate(data_);
}

}  // namespace cg
