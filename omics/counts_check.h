#pragma once
// Guards for steps whose math assumes raw counts (normalize_total, HVG seurat_v3, TF-IDF,
// CLR, filters): a NaN or a negative value there means the wrong layer was passed in.
#include <string_view>

#include "omics/matrix.h"

namespace cg::omics {

// Throws DataError naming `name`, the first offending (row, column) and its value when an
// entry is NaN/inf or negative; with require_integer also when it is not a whole number.
void require_counts(const CsrMatrix& x, std::string_view name, bool require_integer = false);
void require_counts(const DenseMatrix& x, std::string_view name, bool require_integer = false);

}  // namespace cg::omics
