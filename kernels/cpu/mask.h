#pragma once
// CPU masking kernels: dropout with a Philox mask, masked_fill, where.
#include <cstdint>

#include "kernels/kernel_types.h"

namespace cg::kernels::cpu {

// Element i is dropped when philox_bernoulli_at(seed, stream, offset, i, p) is 1 (the same
// recipe as Generator::bernoulli and as the CUDA kernel, so the mask depends only on the
// generator state). mask[i] = dropped ? 0 : scale, y[i] = x[i] * mask[i].
template <class T>
void dropout_forward(const T* x, T* y, T* mask, int64_t n, uint64_t seed, uint64_t stream, uint64_t offset, float p,
                     T scale);
// out = mask != 0 ? value : x, with mask mapped onto the (rows x cols) view by `mode`.
template <class T> void masked_fill(const T* x, const T* mask, Bcast mode, T value, T* out, int64_t rows, int64_t cols);
// out = cond != 0 ? a : b (all the same shape).
template <class T> void where_forward(const T* cond, const T* a, const T* b, T* out, int64_t n);
// ga = cond != 0 ? g : 0, gb = cond != 0 ? 0 : g.
template <class T> void where_backward(const T* cond, const T* g, T* ga, T* gb, int64_t n);

}  // namespace cg::kernels::cpu
