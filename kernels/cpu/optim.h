#pragma once
// CPU optimizer kernels (float and double): one pass over a segment table per step.
// Semantics are in kernels/optim_types.h; the CUDA versions in kernels/cuda/optim.h match them.
#include <cstdint>

#include "kernels/optim_types.h"

namespace cg::kernels::cpu {

// buf: the flat momentum buffer (indexed by OptimSegment::state); unused when momentum == 0.
template <class T> void sgd_step(const OptimSegment<T>* segments, int num_segments, T* buf, const SgdParams& p);
// m, v: the flat first and second moment buffers.
template <class T> void adam_step(const OptimSegment<T>* segments, int num_segments, T* m, T* v, const AdamParams& p);
// Sum of x[i]^2 accumulated in double. Fixed-size chunks summed in a fixed order, so the
// result does not depend on the number of threads (bit-reproducible clipping).
template <class T> double sum_squares(const T* x, int64_t n);

}  // namespace cg::kernels::cpu
