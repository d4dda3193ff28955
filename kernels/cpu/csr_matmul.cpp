#include "kernels/cpu/csr_matmul.h"

#include <algorithm>

#include "kernels/cpu/parallel.h"

namespace cg::kernels::cpu {
namespace {

// out_row[0..m) += v * b_row[0..m): the inner loop of both passes, vectorised by the compiler.
template <class T> inline void axpy_row(T v, const T* __restrict b_row, T* __restrict out_row, int64_t m) {
  for (int64_t j = 0; j < m; ++j) out_row[j] += v * b_row[j];
}

// Rows per chunk so that a chunk holds about kElementwiseGrain multiply-adds.
int64_t grain_for(int64_t items, int64_t nnz, int64_t m) {
  const int64_t per_item = std::max<int64_t>(1, (items > 0 ? nnz / items : 1) * m);
  return std::max<int64_t>(1, kElementwiseGrain / per_item);
}

}  // namespace

template <class T>
void csr_matmul_forward(const CsrIndex& a, const T* values, int64_t rows, const T* b, int64_t m, T* out) {
  const int64_t nnz = rows > 0 ? a.row_ptr[rows] : 0;
  parallel_for(rows, grain_for(rows, nnz, m), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      T* o = out + r * m;
      std::fill(o, o + m, T(0));
      for (int64_t e = a.row_ptr[r]; e < a.row_ptr[r + 1]; ++e)
        axpy_row(values[e], b + static_cast<int64_t>(a.col_index[e]) * m, o, m);
    }
  });
}

template <class T>
void csr_matmul_backward_b(const CsrIndex& a, const T* values, int64_t cols, const T* grad_out, int64_t m,
                           T* grad_b) {
  const int64_t nnz = cols > 0 ? a.col_ptr[cols] : 0;
  parallel_for(cols, grain_for(cols, nnz, m), [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c) {
      T* g = grad_b + c * m;
      std::fill(g, g + m, T(0));
      for (int64_t k = a.col_ptr[c]; k < a.col_ptr[c + 1]; ++k) {
        const int64_t e = a.col_entries[k];
        axpy_row(values[e], grad_out + static_cast<int64_t>(a.entry_row[e]) * m, g, m);
      }
    }
  });
}

template void csr_matmul_forward<float>(const CsrIndex&, const float*, int64_t, const float*, int64_t, float*);
template void csr_matmul_forward<double>(const CsrIndex&, const double*, int64_t, const double*, int64_t, double*);
template void csr_matmul_backward_b<float>(const CsrIndex&, const float*, int64_t, const float*, int64_t, float*);
template void csr_matmul_backward_b<double>(const CsrIndex&, const double*, int64_t, const double*, int64_t,
                                            double*);

}  // namespace cg::kernels::cpu
