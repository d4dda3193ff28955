#pragma once
// Everything the encoding study measures on all pairs of cells, in one streaming pass over the
// similarity tiles (omics/pairwise_similarity.h): the same-type / other-type pair histogram
// (summaries, AUROC), each cell's k nearest neighbours (and, for batch mixing, its k nearest of
// its own type), and each cell's most similar cell of another type and least similar of its own
// (the outliers). Memory: O(N k + bins + block^2), never N x N. Deterministic for any thread
// count (fixed row chunks, merged in order).
#include <cstdint>
#include <functional>
#include <vector>

#include "omics/matrix.h"
#include "omics/nearest_neighbors.h"
#include "omics/pair_histogram.h"

namespace cg::omics {

struct SimilarityOptions {
  int k = 15;                       // neighbours (cut to cells - 1)
  int64_t block = 2048;             // rows per tile
  int histogram_bins = 1 << 16;     // over [-1, 1]: bin width 3.05e-5
  bool same_label_neighbors = false;
};

struct CellPair {
  int64_t a = -1, b = -1;  // b == -1: none
  float s = 0;
};

struct SimilarityMeasures {
  PairHistogram histogram;        // every unordered pair once: same label vs different labels
  TopNeighbors neighbors;         // over all cells
  TopNeighbors same_label;        // among cells of the same label (k = 1 placeholder unless asked)
  std::vector<CellPair> closest_other;  // per cell: the most similar cell of another label
  std::vector<CellPair> farthest_same;  // per cell: the least similar other cell of its label
};

// z: unit rows (unit_rows), so a dot product is the similarity. labels: codes >= 0.
// progress(tiles done, tiles in all), optional.
SimilarityMeasures measure_similarities(const DenseMatrix& z, const std::vector<int>& labels,
                                        const SimilarityOptions& options,
                                        const std::function<void(int64_t, int64_t)>& progress = {});

// The `count` most extreme of per-cell pairs (highest s when `highest`, else lowest), each
// unordered pair once; ties go to the lower cell indices.
std::vector<CellPair> extreme_pairs(const std::vector<CellPair>& per_cell, int count, bool highest);

}  // namespace cg::omics
