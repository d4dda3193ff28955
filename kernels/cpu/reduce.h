#pragma once
// CPU reductions over a (rows x cols) row-major view. Sums accumulate in double.
#include <cstdint>

#include "kernels/kernel_types.h"

namespace cg::kernels::cpu {

// out has 1 (All), rows (Rows) or cols (Cols) values; the sum is multiplied by `scale` (1 or 1/n).
template <class T> void reduce_sum(const T* x, T* out, int64_t rows, int64_t cols, ReduceAxis axis, double scale);
// Maximum of each row and the column where it occurs (first occurrence on ties).
template <class T> void max_rows(const T* x, T* out, int32_t* index, int64_t rows, int64_t cols);
// Backward of max_rows: gx is zero except gx[r, index[r]] = gy[r].
template <class T> void max_rows_backward(const T* gy, const int32_t* index, T* gx, int64_t rows, int64_t cols);

}  // namespace cg::kernels::cpu
