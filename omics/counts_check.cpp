#include "omics/counts_check.h"

#include <cmath>
#include <sstream>

#include "omics/error.h"

namespace cg::omics {
namespace {

void check_value(float v, int64_t r, int64_t c, std::string_view name, bool require_integer) {
  const char* problem = nullptr;
  if (!std::isfinite(v)) problem = "is not finite";
  else if (v < 0.0f) problem = "is negative";
  else if (require_integer && v != std::floor(v)) problem = "is not an integer";
  if (!problem) return;
  std::ostringstream os;
  os << "matrix '" << name << "' must hold raw counts, but entry (cell " << r << ", feature " << c << ") = " << v << " "
     << problem;
  throw DataError(os.str());
}

}  // namespace

void require_counts(const CsrMatrix& x, std::string_view name, bool require_integer) {
  for (int64_t r = 0; r < x.rows; ++r)
    for (int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p)
      check_value(x.data[p], r, x.indices[p], name, require_integer);
}

void require_counts(const DenseMatrix& x, std::string_view name, bool require_integer) {
  for (int64_t r = 0; r < x.rows(); ++r)
    for (int64_t c = 0; c < x.cols(); ++c) check_value(x(r, c), r, c, name, require_integer);
}

}  // namespace cg::omics
