#pragma once
// CUDA row-wise softmax / log-softmax (float32); same semantics and steps as kernels/cpu/softmax.h.
#include <cstdint>

namespace cg::kernels::cuda {

void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols, bool log);
void softmax_rows_backward(const float* gy, const float* y, float* gx, int64_t rows, int64_t cols, bool log);

}  // namespace cg::kernels::cuda
