#include "kernels/cuda/check.cuh"
#include "kernels/cuda/gemm.h"

namespace cg::kernels::cuda {

static int leading_dim(int64_t d) { return static_cast<int>(d > 1 ? d : 1); }

// cuBLAS is column-major. A row-major C (m x n) is a column-major C^T (n x m), and
// C^T = op(B)^T op(A)^T, so we call cuBLAS with the operands swapped. Leading dimensions are at
// least 1: with k = 0 the untransposed operand's would be 0, which cuBLAS rejects, while the
// product itself is well defined (C = beta * C).
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, const float* b,
          float beta, float* c) {
  if (m == 0 || n == 0) return;
  const int lda = leading_dim(trans_a ? m : k), ldb = leading_dim(trans_b ? k : n);
  CG_CUBLAS_CHECK(cublasSgemm(cublas_handle(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                              static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &alpha, b, ldb, a, lda,
                              &beta, c, static_cast<int>(n)));
}

void gemm_batched(bool trans_a, bool trans_b, int64_t batch, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, const float* b, float beta, float* c) {
  if (batch == 0 || m == 0 || n == 0) return;
  const int lda = leading_dim(trans_a ? m : k), ldb = leading_dim(trans_b ? k : n);
  CG_CUBLAS_CHECK(cublasSgemmStridedBatched(cublas_handle(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                            trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n),
                                            static_cast<int>(m), static_cast<int>(k), &alpha, b, ldb, k * n, a, lda,
                                            m * k, &beta, c, static_cast<int>(n), m * n, static_cast<int>(batch)));
}

}  // namespace cg::kernels::cuda
