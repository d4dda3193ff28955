#include "omics/adt.h"

#include <cmath>

#include "omics/counts_check.h"
#include "omics/error.h"

namespace cg::omics {

CsrMatrix clr_per_cell(const CsrMatrix& x, std::string_view name) {
  require_counts(x, name);
  if (x.cols == 0) throw DataError("clr_per_cell: matrix '" + std::string(name) + "' has no features");
  CsrMatrix out = x;
  for (int64_t r = 0; r < x.rows; ++r) {
    double s = 0;
    for (int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) s += std::log1p(double(x.data[p]));
    const double g = std::exp(s / double(x.cols));
    for (int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p)
      out.data[p] = static_cast<float>(std::log1p(double(x.data[p]) / g));
  }
  return out;
}

DenseMatrix clr_per_cell(const DenseMatrix& x, std::string_view name) {
  require_counts(x, name);
  if (x.cols() == 0) throw DataError("clr_per_cell: matrix '" + std::string(name) + "' has no features");
  DenseMatrix out(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    double s = 0;
    for (Eigen::Index c = 0; c < x.cols(); ++c) s += std::log1p(double(x(r, c)));
    const double g = std::exp(s / double(x.cols()));
    for (Eigen::Index c = 0; c < x.cols(); ++c) out(r, c) = static_cast<float>(std::log1p(double(x(r, c)) / g));
  }
  return out;
}

}  // namespace cg::omics
