#pragma once
// CUDA optimizer kernels (float32); same semantics as kernels/cpu/optim.h. `segments` points
// to a segment table already in device memory (the optimizer keeps it cached there), and each
// step is ONE launch over all segments: a grid-stride loop over the concatenated elements, each
// thread finding its segment by binary search once and then walking forward.
#include <cstdint>

#include "kernels/optim_types.h"

namespace cg::kernels::cuda {

void sgd_step(const OptimSegment<float>* segments, int num_segments, int64_t total, float* buf, const SgdParams& p);
void adam_step(const OptimSegment<float>* segments, int num_segments, int64_t total, float* m, float* v,
               const AdamParams& p);
// Sum of x[i]^2 in double, in two deterministic passes (no atomics, so clipping is
// reproducible): sum_squares writes sum_squares_blocks(n) per-block partial sums to device
// memory at `partials`; sum_partials then adds partials[0 .. n) in a fixed order into out[0].
int sum_squares_blocks(int64_t n);
void sum_squares(const float* x, int64_t n, double* partials);
void sum_partials(const double* partials, int64_t n, double* out);

}  // namespace cg::kernels::cuda
