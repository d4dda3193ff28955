#pragma once
// The index arrays of a sparse matrix in CSR order together with its transposed (CSC) view, as
// device pointers (int32), shared by every kernel that walks a CSR pattern (csr_attention,
// csr_matmul). Entries are numbered in CSR order: the entries of row r are row_ptr[r] ..
// row_ptr[r + 1] - 1, entry e sits in row entry_row[e], column col_index[e]. The transposed view
// lists, for column c, the entries col_entries[col_ptr[c] .. col_ptr[c + 1] - 1] (ascending), so
// column-side sums are written by one thread each, without atomics.
#include <cstdint>

namespace cg::kernels {

struct CsrIndex {
  const int32_t* row_ptr = nullptr;      // [rows + 1]
  const int32_t* col_index = nullptr;    // [nnz]
  const int32_t* entry_row = nullptr;    // [nnz]
  const int32_t* col_ptr = nullptr;      // [cols + 1]
  const int32_t* col_entries = nullptr;  // [nnz]
};

}  // namespace cg::kernels
