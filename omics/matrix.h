#pragma once
// Plain matrix types shared by the whole data layer: a dense row-major float matrix (cells x
// features, what models consume) and a CSR sparse matrix (what .h5ad files mostly hold).
#include <Eigen/Dense>
#include <cstdint>
#include <vector>

namespace cg::omics {

using DenseMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using DenseMatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Compressed sparse rows: row r holds columns indices[indptr[r] .. indptr[r+1]) with values data[...].
struct CsrMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<float> data;
  std::vector<int64_t> indices;
  std::vector<int64_t> indptr{0};

  int64_t nnz() const { return static_cast<int64_t>(data.size()); }
  DenseMatrix to_dense() const;
  static CsrMatrix from_dense(const DenseMatrix& m);
};

}  // namespace cg::omics
