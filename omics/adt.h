#pragma once
// Surface-protein (ADT) normalization.
#include <string_view>

#include "omics/matrix.h"

namespace cg::omics {

// Centered log-ratio per cell: x <- log1p(x / g), g = exp(mean over all features of the cell
// of log1p(x)) = the geometric mean of (1 + x). This is Seurat's NormalizeData(method =
// "CLR", margin = 2) and muon.prot.pp.clr(axis = 1); note muon's default axis = 0 normalizes
// each antibody across cells instead. Zeros stay zero, so sparsity is kept. Requires counts.
CsrMatrix clr_per_cell(const CsrMatrix& x, std::string_view name = "X");
DenseMatrix clr_per_cell(const DenseMatrix& x, std::string_view name = "X");

}  // namespace cg::omics
