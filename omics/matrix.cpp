#include "omics/matrix.h"

namespace cg::omics {

DenseMatrix CsrMatrix::to_dense() const {
  DenseMatrix m = DenseMatrix::Zero(rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = indptr[r]; k < indptr[r + 1]; ++k) m(r, indices[k]) = data[k];
  return m;
}

CsrMatrix CsrMatrix::from_dense(const DenseMatrix& m) {
  CsrMatrix s;
  s.rows = m.rows();
  s.cols = m.cols();
  s.indptr.assign(1, 0);
  for (int64_t r = 0; r < s.rows; ++r) {
    for (int64_t c = 0; c < s.cols; ++c)
      if (m(r, c) != 0.0f) {
        s.data.push_back(m(r, c));
        s.indices.push_back(c);
      }
    s.indptr.push_back(static_cast<int64_t>(s.data.size()));
  }
  return s;
}

}  // namespace cg::omics
