#include "kernels/cpu/gemm.h"

#include <Eigen/Core>

namespace cg::kernels::cpu {
namespace {
template <class T> using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T> using CMap = Eigen::Map<const RowMat<T>>;
template <class T> using Map = Eigen::Map<RowMat<T>>;
}  // namespace

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, const T* b,
          T beta, T* c) {
  Map<T> C(c, m, n);
  const CMap<T> A(a, trans_a ? k : m, trans_a ? m : k);
  const CMap<T> B(b, trans_b ? n : k, trans_b ? k : n);
  // beta == 0 must ignore whatever C held (it may be uninitialised memory, even NaN).
  if (beta == T(0)) {
    if (!trans_a && !trans_b) C.noalias() = alpha * A * B;
    else if (trans_a && !trans_b) C.noalias() = alpha * A.transpose() * B;
    else if (!trans_a && trans_b) C.noalias() = alpha * A * B.transpose();
    else C.noalias() = alpha * A.transpose() * B.transpose();
    return;
  }
  if (beta != T(1)) C *= beta;
  if (!trans_a && !trans_b) C.noalias() += alpha * A * B;
  else if (trans_a && !trans_b) C.noalias() += alpha * A.transpose() * B;
  else if (!trans_a && trans_b) C.noalias() += alpha * A * B.transpose();
  else C.noalias() += alpha * A.transpose() * B.transpose();
}

template <class T>
void gemm_batched(bool trans_a, bool trans_b, int64_t batch, int64_t m, int64_t n, int64_t k, T alpha,
                  const T* a, const T* b, T beta, T* c) {
  for (int64_t i = 0; i < batch; ++i)
    gemm<T>(trans_a, trans_b, m, n, k, alpha, a + i * m * k, b + i * k * n, beta, c + i * m * n);
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, const float*, float, float*);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, const double*, double, double*);
template void gemm_batched<float>(bool, bool, int64_t, int64_t, int64_t, int64_t, float, const float*, const float*, float, float*);
template void gemm_batched<double>(bool, bool, int64_t, int64_t, int64_t, int64_t, double, const double*, const double*, double, double*);

}  // namespace cg::kernels::cpu
