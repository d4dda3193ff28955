#include "kernels/cpu/csr_matmul.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace cg::kernels::cpu {
namespace {

// out_row[0..m) += v * b_row[0..m): the inner loop of both passes, vectorised by the compiler.
template <class T> inline void axpy_row(T v, const T* __restrict b_row, T* __restrict out_row, int64_t m) {
  for (int64_t j = 0; j < m; ++j) out_row[j] += v * b_row[j];
}

constexpr int64_t kColumnBlock = 64;

// Rows per chunk: about 4 Mi multiply-adds each, so a chunk reuses each column block of the dense
// side many times (the summation order within a row never depends on the chunking).
int64_t grain_for(int64_t items, int64_t nnz, int64_t m) {
  const int64_t per_item = std::max<int64_t>(1, (items > 0 ? nnz / items : 1) * m);
  return std::max<int64_t>(1, (int64_t(1) << 22) / per_item);
}


// x [n, m] as column blocks: block k is rows 0..n-1 of columns [k * B, k * B + B), each row B
// wide and contiguous (the last block zero-padded). The sparse loops then read whole cache
// lines from one compact block instead of 64-float pieces of rows thousands of bytes apart
// (a page and a TLB entry each).
// The buffer is kept per thread and only grows: a fresh one each call would fault in its pages
// again (tens of MB per step). Padding columns are never read.
template <class T> const T* pack_column_blocks(const T* x, int64_t n, int64_t m) {
  const int64_t blocks = (m + kColumnBlock - 1) / kColumnBlock;
  thread_local std::vector<T> packed;
  if (packed.size() < static_cast<size_t>(blocks * n * kColumnBlock))
    packed.resize(static_cast<size_t>(blocks * n * kColumnBlock));
  parallel_for(n, row_grain(m), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r)
      for (int64_t k = 0; k < blocks; ++k) {
        const int64_t j0 = k * kColumnBlock, w = std::min(kColumnBlock, m - j0);
        std::copy(x + r * m + j0, x + r * m + j0 + w, packed.data() + (k * n + r) * kColumnBlock);
      }
  });
  return packed.data();
}

// out[r, block k] += sum over the entries of the rows (or, with the transposed index, columns)
// in [lo, hi) of value * src row `which(e)` of block k.
template <class T, class Entries>
void accumulate_blocks(const T* values, const T* packed, int64_t packed_rows, int64_t m, int64_t lo, int64_t hi,
                       T* out, const Entries& entries) {
  for (int64_t i = lo; i < hi; ++i) std::fill(out + i * m, out + (i + 1) * m, T(0));
  for (int64_t j0 = 0, k = 0; j0 < m; j0 += kColumnBlock, ++k) {
    const int64_t w = std::min(kColumnBlock, m - j0);
    const T* block = packed + k * packed_rows * kColumnBlock;
    for (int64_t i = lo; i < hi; ++i)
      entries(i, [&](int64_t e, int64_t src) { axpy_row(values[e], block + src * kColumnBlock, out + i * m + j0, w); });
  }
}

}  // namespace

template <class T>
void csr_matmul_forward(const CsrIndex& a, const T* values, int64_t rows, int64_t cols, const T* b, int64_t m,
                        T* out) {
  const int64_t nnz = rows > 0 ? a.row_ptr[rows] : 0;
  if (rows == 0 || m == 0) return;
  // Row r's entries in CSR order; source row of b = the entry's column.
  auto row_entries = [&](int64_t r, auto&& visit) {
    for (int64_t e = a.row_ptr[r]; e < a.row_ptr[r + 1]; ++e) visit(e, static_cast<int64_t>(a.col_index[e]));
  };
  // Packing b costs a pass over it: worth it only when its rows are reused (many nonzeros).
  if (m > kColumnBlock && nnz > 4 * cols) {
    const T* packed = pack_column_blocks(b, cols, m);
    parallel_for(rows, grain_for(rows, nnz, m), [&](int64_t lo, int64_t hi) {
      accumulate_blocks(values, packed, cols, m, lo, hi, out, row_entries);
    });
    return;
  }
  parallel_for(rows, grain_for(rows, nnz, m), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      T* o = out + r * m;
      std::fill(o, o + m, T(0));
      row_entries(r, [&](int64_t e, int64_t c) { axpy_row(values[e], b + c * m, o, m); });
    }
  });
}

template <class T>
void csr_matmul_backward_b(const CsrIndex& a, const T* values, int64_t rows, int64_t cols, const T* grad_out,
                           int64_t m, T* grad_b) {
  const int64_t nnz = cols > 0 ? a.col_ptr[cols] : 0;
  if (cols == 0 || m == 0) return;
  // Column c's entries through the transposed index (ascending); source row of grad_out = the
  // entry's row. Every row of grad_out is read once per entry in it, so packing always pays.
  auto column_entries = [&](int64_t c, auto&& visit) {
    for (int64_t k = a.col_ptr[c]; k < a.col_ptr[c + 1]; ++k) {
      const int64_t e = a.col_entries[k];
      visit(e, static_cast<int64_t>(a.entry_row[e]));
    }
  };
  const T* packed = pack_column_blocks(grad_out, rows, m);
  parallel_for(cols, grain_for(cols, nnz, m), [&](int64_t lo, int64_t hi) {
    accumulate_blocks(values, packed, rows, m, lo, hi, grad_b, column_entries);
  });
}

template void csr_matmul_forward<float>(const CsrIndex&, const float*, int64_t, int64_t, const float*, int64_t,
                                        float*);
template void csr_matmul_forward<double>(const CsrIndex&, const double*, int64_t, int64_t, const double*, int64_t,
                                         double*);
template void csr_matmul_backward_b<float>(const CsrIndex&, const float*, int64_t, int64_t, const float*, int64_t,
                                           float*);
template void csr_matmul_backward_b<double>(const CsrIndex&, const double*, int64_t, int64_t, const double*, int64_t,
                                            double*);

}  // namespace cg::kernels::cpu
