#include "omics/anndata.h"

#include <cmath>

#include "omics/error.h"

namespace cg::omics {

Matrix Matrix::from(DenseMatrix m) {
  Matrix x;
  x.sparse = false;
  x.dense = std::move(m);
  return x;
}

Matrix Matrix::from(CsrMatrix m) {
  Matrix x;
  x.sparse = true;
  x.csr = std::move(m);
  return x;
}

UnsValue UnsValue::number(double v, bool integer) {
  UnsValue u;
  u.type = Type::Number;
  u.integer = integer;
  u.numbers = {v};
  return u;
}

UnsValue UnsValue::text(std::string s) {
  UnsValue u;
  u.type = Type::String;
  u.strings = {std::move(s)};
  return u;
}

void AnnData::validate() const {
  const std::string where = source_file.empty() ? std::string("AnnData") : source_file;
  const int64_t n = n_obs(), g = n_vars();
  auto shape = [](int64_t r, int64_t c) { return std::to_string(r) + " x " + std::to_string(c); };
  if (X.rows() != n || X.cols() != g)
    throw DataError(where + ": X: shape " + shape(X.rows(), X.cols()) + " does not match obs x var = " + shape(n, g));
  for (auto& [name, m] : layers)
    if (m.rows() != n || m.cols() != g)
      throw DataError(where + ": layers/" + name + ": shape " + shape(m.rows(), m.cols()) +
                      " does not match obs x var = " + shape(n, g));
  for (auto& [name, m] : obsm)
    if (m.rows() != n)
      throw DataError(where + ": obsm/" + name + ": " + std::to_string(m.rows()) + " rows, expected " +
                      std::to_string(n));
  for (const DataFrame* df : {&obs, &var})
    for (auto& [name, c] : df->columns)
      if (c.size() != df->rows())
        throw DataError(where + ": " + (df == &obs ? "obs/" : "var/") + name + ": " + std::to_string(c.size()) +
                        " values, expected " + std::to_string(df->rows()));
}

namespace {
[[noreturn]] void bad_count(const std::string& what, int64_t r, int64_t c, float v) {
  throw DataError(what + ": expected raw counts (finite, >= 0) but entry (" + std::to_string(r) + ", " +
                  std::to_string(c) + ") is " + (std::isnan(v) ? std::string("NaN") : std::to_string(v)));
}
}  // namespace

void check_counts(const CsrMatrix& X, const std::string& what) {
  for (int64_t r = 0; r < X.rows; ++r)
    for (int64_t k = X.indptr[r]; k < X.indptr[r + 1]; ++k) {
      const float v = X.data[k];
      if (!std::isfinite(v) || v < 0) bad_count(what, r, X.indices[k], v);
    }
}

void check_counts(const DenseMatrix& X, const std::string& what) {
  for (Eigen::Index r = 0; r < X.rows(); ++r)
    for (Eigen::Index c = 0; c < X.cols(); ++c) {
      const float v = X(r, c);
      if (!std::isfinite(v) || v < 0) bad_count(what, r, c, v);
    }
}

void check_counts(const Matrix& X, const std::string& what) {
  if (X.sparse) check_counts(X.csr, what);
  else check_counts(X.dense, what);
}

}  // namespace cg::omics
