#pragma once
// CUDA elementwise kernels (float32); same semantics as kernels/cpu/elementwise.h.
#include <cstdint>

#include "kernels/kernel_types.h"

namespace cg::kernels::cuda {

void unary_forward(UnaryOp op, UnaryParams p, const float* x, float* y, int64_t n);
void unary_backward(UnaryOp op, UnaryParams p, const float* x, const float* y, const float* gy, float* gx, int64_t n);
void binary_forward(BinaryOp op, const float* a, Bcast am, const float* b, Bcast bm, float* out, int64_t rows,
                    int64_t cols);
void broadcast_copy(const float* x, Bcast mode, float* out, int64_t rows, int64_t cols);
void fill(float* x, float value, int64_t n);
void fill_i32(int32_t* x, int32_t value, int64_t n);
void axpy(float alpha, const float* x, float* y, int64_t n);
void scale(float* x, float alpha, int64_t n);

}  // namespace cg::kernels::cuda
