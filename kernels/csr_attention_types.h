#pragma once
// Sizes and index arrays of the sparse (CSR) masked attention kernels, shared by
// kernels/cpu/csr_attention.h and kernels/cuda/csr_attention.h (see the former for the maths).
#include <cstdint>

namespace cg::kernels {

struct CsrAttentionSizes {
  int64_t cells = 0;     // N: rows of x
  int64_t genes = 0;     // G: columns of x, rows of values
  int64_t pathways = 0;  // P: CSR rows
  int64_t heads = 0;     // H
  int64_t head_dim = 0;  // dh; values and the output have H * dh columns
  int64_t nnz = 0;       // links (CSR entries)
};

// The mask pattern, device pointers (int32). Entries are numbered in CSR order: the links of
// pathway p are entries row_ptr[p] .. row_ptr[p + 1] - 1, entry e links pathway entry_row[e] to
// gene col_index[e]. The transposed view lists, for gene g, the entries
// col_entries[col_ptr[g] .. col_ptr[g + 1] - 1] (ascending), so gene-side sums need no atomics.
struct CsrAttentionIndex {
  const int32_t* row_ptr = nullptr;      // [P + 1]
  const int32_t* col_index = nullptr;    // [nnz]
  const int32_t* entry_row = nullptr;    // [nnz]
  const int32_t* col_ptr = nullptr;      // [G + 1]
  const int32_t* col_entries = nullptr;  // [nnz]
};

}  // namespace cg::kernels
