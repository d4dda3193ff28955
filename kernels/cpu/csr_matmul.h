#pragma once
// CPU kernels of the sparse-times-dense product (autograd op csr_matmul), float and double:
//   forward   out [rows, m] = A b          A sparse [rows, cols] (CSR), b dense [cols, m]
//   backward  grad_b [cols, m] = A^T grad_out
// The first layer of an encoder reading expression: at the 5% density of log-normalised counts
// this does a twentieth of the dense GEMM's multiply-adds. Each output row is written by one
// loop iteration in a fixed entry order (forward: the row's entries in CSR order; backward: the
// column's entries through the transposed index, ascending), so the results are the same bits for
// any thread count. Accumulation is in T, as the dense GEMM's. With m over 64 the dense side is
// read in 64-column blocks packed contiguously first (forward: when A has more than 4 nonzeros
// per column of b; backward: always), so a block stays in cache and in few pages while every
// nonzero reads from it; the summation order is the same either way.
#include <cstdint>

#include "kernels/csr_index.h"

namespace cg::kernels::cpu {

// rows, cols: A's shape (b and grad_b have cols rows; out and grad_out have rows rows).
template <class T>
void csr_matmul_forward(const CsrIndex& a, const T* values, int64_t rows, int64_t cols, const T* b, int64_t m,
                        T* out);

template <class T>
void csr_matmul_backward_b(const CsrIndex& a, const T* values, int64_t rows, int64_t cols, const T* grad_out,
                           int64_t m, T* grad_b);

}  // namespace cg::kernels::cpu
