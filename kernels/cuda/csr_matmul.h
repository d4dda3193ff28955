#pragma once
// CUDA kernels of the sparse-times-dense product (float32); same maths, argument meanings and
// fixed summation order as kernels/cpu/csr_matmul.h. One block per output row, its threads over
// the m columns: the reads of b's rows and the writes are coalesced, the row's entries are
// read once per thread from cache, and every output element has one writer (no atomics).
#include <cstdint>

#include "kernels/csr_index.h"

namespace cg::kernels::cuda {

void csr_matmul_forward(const CsrIndex& a, const float* values, int64_t rows, int64_t cols, const float* b, int64_t m,
                        float* out);
void csr_matmul_backward_b(const CsrIndex& a, const float* values, int64_t rows, int64_t cols, const float* grad_out,
                           int64_t m, float* grad_b);

}  // namespace cg::kernels::cuda
