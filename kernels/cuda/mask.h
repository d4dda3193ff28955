#pragma once
// CUDA masking kernels (float32); same semantics as kernels/cpu/mask.h, and the same Philox
// recipe, so dropout masks are identical to the CPU's for the same generator state.
#include <cstdint>

#include "kernels/kernel_types.h"

namespace cg::kernels::cuda {

void dropout_forward(const float* x, float* y, float* mask, int64_t n, uint64_t seed, uint64_t stream, uint64_t offset,
                     float p, float scale);
void masked_fill(const float* x, const float* mask, Bcast mode, float value, float* out, int64_t rows, int64_t cols);
void where_forward(const float* cond, const float* a, const float* b, float* out, int64_t n);
void where_backward(const float* cond, const float* g, float* ga, float* gb, int64_t n);

}  // namespace cg::kernels::cuda
