#pragma once
// Geneformer-style rank-value encoding: a cell becomes the list of its expressed genes,
// ordered by expression relative to how highly each gene is usually expressed, so that
// housekeeping genes sink and cell-state genes rise.
#include <cstdint>
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

// Per gene, the median of its nonzero values across cells (numpy median: the mean of the two
// middle values for an even count); 0 for a gene that is never expressed.
std::vector<double> gene_nonzero_medians(const CsrMatrix& x);

// Per cell: genes with a value > 0, sorted by value / median[gene] descending (ties: lower
// gene index first), truncated to max_length (Geneformer: 2048; <= 0 keeps all). Genes
// whose median is 0 cannot be normalized and are skipped. Geneformer additionally scales each
// cell to 10,000 counts first; call normalize_total beforehand for that.
std::vector<std::vector<int64_t>> rank_value_encode(const CsrMatrix& x, const std::vector<double>& medians,
                                                    int64_t max_length = 2048);

}  // namespace cg::omics
