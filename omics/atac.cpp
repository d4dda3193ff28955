#include "omics/atac.h"

#include <cmath>
#include <string>

#include "omics/counts_check.h"
#include "omics/error.h"

namespace cg::omics {

CsrMatrix binarize(const CsrMatrix& x, std::string_view name) {
  CsrMatrix out;
  out.rows = x.rows;
  out.cols = x.cols;
  out.indptr.assign(1, 0);
  for (int64_t r = 0; r < x.rows; ++r) {
    for (int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) {
      if (!std::isfinite(x.data[p]))
        throw DataError("binarize: matrix '" + std::string(name) + "' has a non-finite entry at (cell " +
                        std::to_string(r) + ", feature " + std::to_string(x.indices[p]) + ")");
      if (x.data[p] > 0.0f) out.indices.push_back(x.indices[p]), out.data.push_back(1.0f);
    }
    out.indptr.push_back(out.nnz());
  }
  return out;
}

CsrMatrix tfidf(const CsrMatrix& x, const TfidfOptions& opt, std::string_view name) {
  require_counts(x, name);
  std::vector<double> row_sum(static_cast<size_t>(x.rows), 0.0), col_sum(static_cast<size_t>(x.cols), 0.0);
  for (int64_t r = 0; r < x.rows; ++r)
    for (int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) {
      row_sum[r] += x.data[p];
      col_sum[x.indices[p]] += x.data[p];
    }
  CsrMatrix out = x;
  for (int64_t r = 0; r < x.rows; ++r)
    for (int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) {
      if (x.data[p] == 0.0f) continue;  // an explicit zero: tf = 0 whatever the idf
      double tf = double(x.data[p]) / row_sum[r];
      if (opt.scale_factor != 0) tf *= opt.scale_factor;
      if (opt.log_tf) tf = std::log1p(tf);
      double idf = double(x.rows) / col_sum[x.indices[p]];
      if (opt.log_idf) idf = std::log1p(idf);
      double v = tf * idf;
      if (opt.log_tfidf) v = std::log1p(v);
      out.data[p] = static_cast<float>(v);
    }
  return out;
}

}  // namespace cg::omics
