#pragma once
// CPU elementwise kernels over contiguous arrays (float and double instantiations).
#include <cstdint>

#include "kernels/kernel_types.h"

namespace cg::kernels::cpu {

template <class T> void unary_forward(UnaryOp op, UnaryParams p, const T* x, T* y, int64_t n);
template <class T>
void unary_backward(UnaryOp op, UnaryParams p, const T* x, const T* y, const T* gy, T* gx, int64_t n);
// out[r, c] = a[map(am)] op b[map(bm)] over a rows x cols output.
template <class T>
void binary_forward(BinaryOp op, const T* a, Bcast am, const T* b, Bcast bm, T* out, int64_t rows, int64_t cols);
// out[r, c] = x[map(mode)]: expands a scalar, row or column to a rows x cols matrix.
template <class T> void broadcast_copy(const T* x, Bcast mode, T* out, int64_t rows, int64_t cols);
template <class T> void fill(T* x, T value, int64_t n);
// y += alpha * x (used for gradient accumulation).
template <class T> void axpy(T alpha, const T* x, T* y, int64_t n);
template <class T> void scale(T* x, T alpha, int64_t n);
template <class From, class To> void convert(const From* x, To* y, int64_t n);

}  // namespace cg::kernels::cpu
