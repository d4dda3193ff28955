#pragma once
// All-pairs similarity of cells (rows) in tiles, so that memory stays bounded: rows are scaled
// to unit length (after centering for Pearson), and each tile of S = Z Z^T is one GEMM of the
// engine's CPU kernel (kernels/cpu/gemm.h), handed to a visitor and dropped. Only tiles on and
// above the diagonal are computed (S is symmetric): about N^2 / 2 dot products.
#include <cstdint>
#include <functional>
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

// Rows centered (Pearson; false: cosine) and scaled to unit length, so that a dot product of
// two rows is their correlation. A row with zero variance (zero length) becomes all zero (every
// similarity with it is 0, never NaN); its index is added to `constant_rows` when given. Works in
// place on the matrix it is given (pass std::move(x) to avoid a copy of a large one).
DenseMatrix unit_rows(DenseMatrix x, bool center, std::vector<int64_t>* constant_rows = nullptr);

// One tile: similarities of rows [row0, row0 + rows) with rows [col0, col0 + cols), row-major.
// On a diagonal tile (row0 == col0) the whole square is given, the diagonal included.
struct SimilarityTile {
  int64_t row0 = 0, rows = 0, col0 = 0, cols = 0;
  const float* s = nullptr;
  float at(int64_t i, int64_t j) const { return s[i * cols + j]; }  // local indices
  bool diagonal() const { return row0 == col0; }
};

// Visits the tiles (I, J), J >= I, of `block` rows each, row block by row block. `progress`
// (optional) is called after each tile with (tiles done, tiles in all).
void for_each_similarity_tile(const DenseMatrix& z, int64_t block, const std::function<void(const SimilarityTile&)>& visit,
                              const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace cg::omics
