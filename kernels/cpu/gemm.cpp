#include "kernels/cpu/gemm.h"

#include <Eigen/Core>
#include <algorithm>
#include <mutex>
#include <string>

#include "base/error.h"
#include "kernels/cpu/parallel.h"

#ifdef CELLGRAD_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);  // declared here too: not every cblas.h has it
#endif

namespace cg::kernels::cpu {
namespace {
template <class T> using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T> using CMap = Eigen::Map<const RowMat<T>>;
template <class T> using Map = Eigen::Map<RowMat<T>>;

#ifdef CELLGRAD_OPENBLAS
void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha, const float* a, int lda,
               const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, double alpha, const double* a, int lda,
               const double* b, int ldb, double beta, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
#endif

// One thread's GEMM on a block of C: op(A) rows [i0, i0 + mb) times op(B) columns [j0, j0 + nb).
// lda/ldb/ldc are the full matrices' row strides, so a block is a pointer offset, never a copy.
template <class T>
void gemm_block(bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t i0, int64_t mb, int64_t j0, int64_t nb,
                T alpha, const T* a, const T* b, T beta, T* c) {
  const int64_t lda = ta ? m : k, ldb = tb ? k : n;
  const T* ab = ta ? a + i0 : a + i0 * lda;
  const T* bb = tb ? b + j0 * ldb : b + j0;
  T* cb = c + i0 * n + j0;
#ifdef CELLGRAD_OPENBLAS
  // BLAS with beta == 0 overwrites C without reading it (uninitialised or NaN C is fine).
  blas_gemm(ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(mb), static_cast<int>(nb),
            static_cast<int>(k), alpha, ab, static_cast<int>(lda), bb, static_cast<int>(ldb), beta, cb,
            static_cast<int>(n));
#else
  using Stride = Eigen::OuterStride<>;
  Eigen::Map<RowMat<T>, 0, Stride> C(cb, mb, nb, Stride(n));
  const Eigen::Map<const RowMat<T>, 0, Stride> A(ab, ta ? k : mb, ta ? mb : k, Stride(lda));
  const Eigen::Map<const RowMat<T>, 0, Stride> B(bb, tb ? nb : k, tb ? k : nb, Stride(ldb));
  // beta == 0 must ignore whatever C held (it may be uninitialised memory, even NaN).
  if (beta == T(0)) {
    if (!ta && !tb) C.noalias() = alpha * A * B;
    else if (ta && !tb) C.noalias() = alpha * A.transpose() * B;
    else if (!ta && tb) C.noalias() = alpha * A * B.transpose();
    else C.noalias() = alpha * A.transpose() * B.transpose();
    return;
  }
  if (beta != T(1)) C *= beta;
  if (!ta && !tb) C.noalias() += alpha * A * B;
  else if (ta && !tb) C.noalias() += alpha * A.transpose() * B;
  else if (!ta && tb) C.noalias() += alpha * A * B.transpose();
  else C.noalias() += alpha * A.transpose() * B.transpose();
#endif
}

// The library's own threading stays off (OpenBLAS's pthreads, Eigen's OpenMP split): on 2
// cores a second thread pool beside ours oversubscribes them, and both libraries' busy-waiting
// collapses when the machine is loaded. Threads come from parallel_for instead.
// (Without OpenBLAS this sets Eigen's GEMM thread count to 1 for the whole process.)
void single_threaded_library() {
  static std::once_flag once;
#ifdef CELLGRAD_OPENBLAS
  std::call_once(once, [] { openblas_set_num_threads(1); });
#else
  std::call_once(once, [] { Eigen::setNbThreads(1); });
#endif
}
}  // namespace

// C is split along its longer side into blocks that depend only on the shape (multiples of 16
// rows/columns, at most 8, at least 64 wide, none below ~2 MFLOP), and the blocks are shared out by
// parallel_for. k is never split, so each element is one block's dot product, and the result is
// the same bits for any thread count.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, const T* b, T beta, T* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // C = beta * C (beta == 0: zeros, whatever C held)
    for (int64_t i = 0; i < m * n; ++i) c[i] = beta == T(0) ? T(0) : beta * c[i];
    return;
  }
  const int64_t limit = int64_t(1) << 31;  // BLAS takes int dimensions and strides
  if (m >= limit || n >= limit || k >= limit)
    throw Error("matrix product: a dimension is 2^31 or more (" + std::to_string(m) + " x " + std::to_string(k) +
                " times " + std::to_string(k) + " x " + std::to_string(n) + "); BLAS takes 32-bit sizes");
  single_threaded_library();
  const bool split_n = n >= m;
  const int64_t side = split_n ? n : m, other = split_n ? m : n;
  const double flops_per_line = 2.0 * static_cast<double>(other) * static_cast<double>(k);
  int64_t blocks = std::min<int64_t>(8, std::max<int64_t>(1, side / 64));
  blocks = std::min<int64_t>(blocks, std::max<int64_t>(1, static_cast<int64_t>(flops_per_line * side / 2e6)));
  const int64_t width = ((side + blocks - 1) / blocks + 15) / 16 * 16;
  blocks = (side + width - 1) / width;
  parallel_for(blocks, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t blk = lo; blk < hi; ++blk) {
      const int64_t start = blk * width, len = std::min(side, start + width) - start;
      if (split_n) gemm_block<T>(trans_a, trans_b, m, n, k, 0, m, start, len, alpha, a, b, beta, c);
      else gemm_block<T>(trans_a, trans_b, m, n, k, start, len, 0, n, alpha, a, b, beta, c);
    }
  });
}

template <class T>
void gemm_batched(bool trans_a, bool trans_b, int64_t batch, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                  const T* b, T beta, T* c) {
  for (int64_t i = 0; i < batch; ++i)
    gemm<T>(trans_a, trans_b, m, n, k, alpha, a + i * m * k, b + i * k * n, beta, c + i * m * n);
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, const float*, float, float*);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, const double*, double,
                           double*);
template void gemm_batched<float>(bool, bool, int64_t, int64_t, int64_t, int64_t, float, const float*, const float*,
                                  float, float*);
template void gemm_batched<double>(bool, bool, int64_t, int64_t, int64_t, int64_t, double, const double*, const double*,
                                   double, double*);

}  // namespace cg::kernels::cpu
