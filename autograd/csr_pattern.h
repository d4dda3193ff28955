#pragma once
// Sparse structures the CSR ops take: a fixed sparsity pattern with its transposed index
// (CsrPattern: a pathway mask for csr_attention, or the nonzeros of an expression batch), and a
// sparse matrix (CsrMatrix: a pattern and its values, the input of csr_matmul).
#include <cstdint>
#include <vector>

#include "autograd/tensor.h"
#include "kernels/csr_index.h"

namespace cg {

// A rows x cols sparsity pattern in CSR order, with the transposed index the backward passes
// need; int32 tensors on one device. Entry e is the e-th entry in row-major order, rows one after
// another.
struct CsrPattern {
  int64_t rows = 0, cols = 0, nnz = 0;
  Tensor row_ptr;      // [rows + 1]
  Tensor col_index;    // [nnz]
  Tensor entry_row;    // [nnz]: the row of each entry
  Tensor col_ptr;      // [cols + 1]
  Tensor col_entries;  // [nnz]: the entries of column c are col_entries[col_ptr[c] .. col_ptr[c + 1])
  // members[p]: the columns of row p, any order (sorted here); each in [0, cols), no repeats
  // (cg::Error naming the row and the column otherwise).
  static CsrPattern from_rows(const std::vector<std::vector<int64_t>>& members, int64_t cols,
                              Device device = Device::CPU);
  // Standard CSR arrays (row_ptr [rows + 1] starting at 0 and never decreasing, col_index in
  // [0, cols)); columns within a row may come in any order. cg::Error saying what is wrong
  // otherwise.
  static CsrPattern from_csr(const std::vector<int32_t>& row_ptr, const std::vector<int32_t>& col_index, int64_t cols,
                             Device device = Device::CPU);
  CsrPattern to(Device device) const;
  Device device() const { return row_ptr.device(); }
  std::vector<std::vector<int64_t>> members() const;  // back to per-row column lists
  kernels::CsrIndex index() const;                      // the arrays as the kernels take them
};

// A sparse matrix: a pattern and one value per entry (float32 or float64, on the pattern's device).
struct CsrMatrix {
  CsrPattern pattern;
  Tensor values;  // [nnz]
  int64_t rows() const { return pattern.rows; }
  int64_t cols() const { return pattern.cols; }
  int64_t nnz() const { return pattern.nnz; }
  Device device() const { return pattern.device(); }
  DType dtype() const { return values.dtype(); }
  // CSR arrays and values as floats or doubles (values.size() == col_index.size()).
  static CsrMatrix from_csr(const std::vector<int32_t>& row_ptr, const std::vector<int32_t>& col_index,
                            const std::vector<float>& values, int64_t cols, Device device = Device::CPU);
  // The nonzeros of a dense 2-D CPU tensor (float32 or float64), same dtype.
  static CsrMatrix from_dense(const Tensor& dense);
  CsrMatrix to(Device device) const;
  Tensor to_dense() const;  // [rows, cols], the values' dtype, on the matrix's device
};

}  // namespace cg
