#pragma once
// Quality filters on raw counts (scanpy pp.filter_cells / pp.filter_genes semantics: a cell's
// "genes" and a gene's "cells" count entries > 0). They return the kept indices so the caller
// can subset the matrix and its obs/var annotations consistently.
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

struct CellFilter {
  double min_counts = 0, max_counts = std::numeric_limits<double>::infinity();
  int64_t min_genes = 0, max_genes = std::numeric_limits<int64_t>::max();
};
struct GeneFilter {
  double min_counts = 0, max_counts = std::numeric_limits<double>::infinity();
  int64_t min_cells = 0, max_cells = std::numeric_limits<int64_t>::max();
};

// Kept row (cell) indices, ascending; all bounds inclusive. Throws DataError on non-counts.
std::vector<int64_t> filter_cells(const CsrMatrix& x, const CellFilter& f, std::string_view name = "X");
// Kept column (gene) indices, ascending.
std::vector<int64_t> filter_genes(const CsrMatrix& x, const GeneFilter& f, std::string_view name = "X");

// Row / column subsets in the given order (indices may repeat, e.g. for bootstraps).
CsrMatrix csr_select_rows(const CsrMatrix& x, const std::vector<int64_t>& rows);
CsrMatrix csr_select_cols(const CsrMatrix& x, const std::vector<int64_t>& cols);
DenseMatrix dense_select_rows(const DenseMatrix& x, const std::vector<int64_t>& rows);
DenseMatrix dense_select_cols(const DenseMatrix& x, const std::vector<int64_t>& cols);

}  // namespace cg::omics
