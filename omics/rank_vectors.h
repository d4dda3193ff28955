#pragma once
// Rank encodings as vectors over all genes, so that the similarity of two cells is a Pearson
// correlation of their rows (= Spearman of the ranked values), and what ranking throws away.
// A ranked cell is the list rank_value_encode() gives (Geneformer, or cell2sentence with unit
// divisors), with the value each listed gene was ranked by.
#include <cstdint>
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

struct RankedCells {
  int64_t genes = 0;
  std::vector<std::vector<int64_t>> order;   // per cell: listed genes, highest value first
  std::vector<std::vector<double>> values;   // per cell: the value each listed gene was ranked by
};

// Per cell, genes with x > 0 and divisor > 0 ranked by x / divisor descending (ties: lower gene
// index first) and cut to max_length (<= 0 keeps all): rank_value_encode, plus the values.
// Geneformer: divisors = gene_nonzero_medians, max_length 2048; cell2sentence: divisors all 1,
// max_length 100.
RankedCells rank_cells(const CsrMatrix& x, const std::vector<double>& divisors, int64_t max_length);

// cells x genes, row i = scipy.stats.rankdata (1-based, ties averaged) of the vector that holds
// each listed gene's value and 0 for every gene not listed (zeros, and genes cut by max_length,
// tie at the bottom with rank (genes - listed + 1) / 2). Pearson of two rows = Spearman.
DenseMatrix rank_vectors(const RankedCells& r);

// What ranking discards in one cell.
struct RankLoss {
  int64_t listed = 0;           // genes in the list
  int64_t bottom_tied = 0;      // genes tied at the bottom (genes - listed)
  int64_t tied_listed = 0;      // listed genes whose value equals another listed gene's
  double log10_orderings = 0;   // log10 of the orderings of equal values the list fixes arbitrarily: sum log10(t!)
};
RankLoss rank_loss(const RankedCells& r, int64_t cell);

}  // namespace cg::omics
