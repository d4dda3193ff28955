#pragma once
// CUDA reductions (float32, accumulated in double); same semantics as kernels/cpu/reduce.h.
#include <cstdint>

#include "kernels/kernel_types.h"

namespace cg::kernels::cuda {

void reduce_sum(const float* x, float* out, int64_t rows, int64_t cols, ReduceAxis axis, double scale);
void max_rows(const float* x, float* out, int32_t* index, int64_t rows, int64_t cols);
void max_rows_backward(const float* gy, const int32_t* index, float* gx, int64_t rows, int64_t cols);

}  // namespace cg::kernels::cuda
