#pragma once
// Waits for the device's queued work, so that a timer read afterwards covers it (CUDA kernels
// launch asynchronously; the CPU needs nothing).
#include "autograd/tensor.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/runtime.h"
#endif

namespace cg::bench {
inline void sync(Device dev) {
#ifdef CELLGRAD_CUDA
  if (dev == Device::CUDA) kernels::cuda::synchronize();
#else
  (void)dev;
#endif
}
}  // namespace cg::bench
