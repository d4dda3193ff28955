#pragma once
// CUDA data movement for the shape ops (float32); same semantics as kernels/cpu/shape.h.
#include <cstdint>

namespace cg::kernels::cuda {

// dst[r * dst_ld + c] = src[r * src_ld + c] for r < rows, c < cols (device pointers).
void copy_block(const float* src, int64_t src_ld, float* dst, int64_t dst_ld, int64_t rows, int64_t cols);
// y [cols, rows] = x [rows, cols] transposed.
void transpose(const float* x, float* y, int64_t rows, int64_t cols);

}  // namespace cg::kernels::cuda
