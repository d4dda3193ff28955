#pragma once
// How well values come back from what an encoding keeps of them. cell2sentence (Levine et al.
// 2024) recovers expression from a gene's rank with one line fitted over all cells,
// value ~ a log10(rank) + b; the same pooled line fits any per-entry code (a quantile bin).
#include <cstdint>
#include <vector>

namespace cg::omics {

struct PooledLineFit {
  double slope = 0, intercept = 0;
  std::vector<double> r2;  // per cell: 1 - SS_res / SS_tot over its own entries (NaN: < 2 entries or constant)
};

// codes[i][e], values[i][e]: cell i's entries. One least-squares line over all entries of all
// cells, then each cell's R^2 under it (negative when the line does worse than the cell's mean).
PooledLineFit fit_pooled_line(const std::vector<std::vector<double>>& codes,
                              const std::vector<std::vector<double>>& values);

}  // namespace cg::omics
