#pragma once
// CPU data movement for the shape ops. One strided 2-D block copy serves concat, slice and both
// of their backwards: the caller offsets the pointers to the block's first element and passes
// the row strides (leading dimensions) of source and destination.
#include <cstdint>

namespace cg::kernels::cpu {

// dst[r * dst_ld + c] = src[r * src_ld + c] for r < rows, c < cols.
template <class T> void copy_block(const T* src, int64_t src_ld, T* dst, int64_t dst_ld, int64_t rows, int64_t cols);
// y [cols, rows] = x [rows, cols] transposed.
template <class T> void transpose(const T* x, T* y, int64_t rows, int64_t cols);

}  // namespace cg::kernels::cpu
