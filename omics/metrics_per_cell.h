#pragma once
// Agreement of a translation per cell: each cell's predicted profile against its real one, over
// the features (the transpose of sklearn's per-feature r2_score and of per-feature Pearson).
#include "omics/matrix.h"

namespace cg::omics {

// Mean over rows of 1 - sum_j (y_ij - p_ij)^2 / sum_j (y_ij - mean_j y_ij)^2. Rows whose truth is
// constant are skipped; NaN when every row is.
double mean_row_r2(const DenseMatrix& truth, const DenseMatrix& predicted);
// Mean over rows of the Pearson correlation of a row's truth and prediction; rows where either
// is constant are skipped; NaN when every row is.
double mean_row_pearson(const DenseMatrix& truth, const DenseMatrix& predicted);

}  // namespace cg::omics
