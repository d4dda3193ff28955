#pragma once
// Sizes and index arrays of the sparse (CSR) masked attention kernels, shared by
// kernels/cpu/csr_attention.h and kernels/cuda/csr_attention.h (see the former for the maths).
#include <cstdint>

#include "kernels/csr_index.h"

namespace cg::kernels {

struct CsrAttentionSizes {
  int64_t cells = 0;     // N: rows of x
  int64_t genes = 0;     // G: columns of x, rows of values
  int64_t pathways = 0;  // P: CSR rows
  int64_t heads = 0;     // H
  int64_t head_dim = 0;  // dh; values and the output have H * dh columns
  int64_t nnz = 0;       // links (CSR entries)
};

// The mask pattern (pathways x genes): see kernels/csr_index.h.
using CsrAttentionIndex = CsrIndex;

}  // namespace cg::kernels
