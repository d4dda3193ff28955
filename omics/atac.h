#pragma once
// Chromatin-accessibility transforms. Rare peaks are dropped with filter_genes(min_cells).
#include <string_view>

#include "omics/matrix.h"

namespace cg::omics {

// Every stored entry > 0 becomes 1, anything else 0 (explicit zeros are removed). Used for
// ATAC where the stored values are read counts or an unknown normalization of them.
// Throws DataError naming `name` on a NaN/inf entry (it would silently read as closed).
CsrMatrix binarize(const CsrMatrix& x, std::string_view name = "X");

// TF-IDF with the same switches as muon.atac.pp.tfidf, whose defaults are used here:
//   tf  = x / (row sum)                    (per cell)
//   tf  = tf * scale_factor                (1e4; 0 or 1 leaves it unscaled)
//   tf  = log1p(tf)            if log_tf
//   idf = n_cells / (column sum)           (per peak)
//   idf = log1p(idf)           if log_idf   (default on: idf = log(1 + n_cells / colsum))
//   out = tf * idf, then log1p(out) if log_tfidf.
// Signac's RunTFIDF(method = 1) is {scale_factor 1e4, log_idf false, log_tfidf true}.
// Sparsity is preserved; cells or peaks with a zero sum have no entries and stay empty.
struct TfidfOptions {
  double scale_factor = 1e4;
  bool log_tf = false, log_idf = true, log_tfidf = false;
};
CsrMatrix tfidf(const CsrMatrix& x, const TfidfOptions& opt = {}, std::string_view name = "X");

}  // namespace cg::omics
