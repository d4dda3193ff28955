#pragma once
// Reading and writing the matrix elements of an .h5ad (X, layers/*, obsm/*): dense 2-D datasets
// and csr_matrix / csc_matrix groups, with optional row and column subsets that are read slice by
// slice instead of loading the whole matrix.
#include <hdf5.h>

#include <string>
#include <vector>

#include "omics/anndata.h"
#include "omics/hdf5_util.h"

namespace cg::omics::detail {

struct Subset {
  const std::vector<int64_t>* rows = nullptr;  // null: all rows
  const std::vector<int64_t>* cols = nullptr;  // null: all columns; no repeats
};

// An opened csr_matrix / csc_matrix group: its sizes, data and indices datasets, and indptr read
// and checked (what does not need the whole data/indices).
struct SparseGroup {
  bool csc = false;
  int64_t rows = 0, cols = 0, nnz = 0;
  h5::Hid data, indices;
  std::vector<int64_t> indptr;
};
SparseGroup open_sparse(hid_t loc, const std::string& file, const std::string& key);
// CSR rows (and columns) of an opened CSR group: only the runs of rows asked for are read from
// data/indices; column indices are checked.
CsrMatrix read_csr(SparseGroup& s, const std::string& file, const std::string& key, const Subset& sub);

// `key` is the path of the element under `loc` (also used in error messages).
Matrix read_matrix(hid_t loc, const std::string& file, const std::string& key, const Subset& sub);
DenseMatrix read_dense(hid_t loc, const std::string& file, const std::string& key, const Subset& sub);

// DataError (naming `what`) unless the CSR arrays are consistent with each other and the shape.
void validate_csr(const CsrMatrix& m, const std::string& what);
// In-memory selection with the same semantics as Subset.
CsrMatrix take(const CsrMatrix& m, const Subset& sub, const std::string& file, const std::string& key);

void write_matrix(hid_t loc, const std::string& name, const Matrix& m, int gzip_level);
void write_dense(hid_t loc, const std::string& name, const DenseMatrix& m, int gzip_level);

}  // namespace cg::omics::detail
