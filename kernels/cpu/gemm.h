#pragma once
// CPU GEMM: C = alpha * op(A) op(B) + beta * C, all row-major. Through OpenBLAS when the build
// found it (CELLGRAD_OPENBLAS: faster on thin training shapes, and its threads hold up better on a
// loaded machine), otherwise through Eigen.
#include <cstdint>

namespace cg::kernels::cpu {

// op(A) is m x k, op(B) is k x n, C is m x n. A is stored (trans_a ? k x m : m x k), likewise B.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, const T* b, T beta, T* c);
// Batched over `batch` independent matrices laid out back to back.
template <class T>
void gemm_batched(bool trans_a, bool trans_b, int64_t batch, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                  const T* b, T beta, T* c);

}  // namespace cg::kernels::cpu
