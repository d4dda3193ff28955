#pragma once
// Library-size normalization, log transform and per-gene scaling (scanpy pp.normalize_total,
// pp.log1p, pp.scale semantics). Arithmetic is in double; results are stored as float32.
#include <optional>
#include <string_view>
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

// Each cell is scaled so that its total becomes target_sum (1e4 usual, 1e6 = CPM). Without a
// target, scanpy's default is used: the median of the nonzero cell totals. A cell whose total
// is 0 stays all-zero (scanpy divides it by 1). Requires counts-like input (finite, >= 0):
// throws DataError naming `name` otherwise. Returns the totals before normalization.
std::vector<double> normalize_total(CsrMatrix& x, std::optional<double> target_sum = std::nullopt,
                                    std::string_view name = "X");
std::vector<double> normalize_total(DenseMatrix& x, std::optional<double> target_sum = std::nullopt,
                                    std::string_view name = "X");

// x <- log(1 + x), divided by log(base) when a base is given (scanpy's `base`).
void log1p_inplace(CsrMatrix& x, std::optional<double> base = std::nullopt);
void log1p_inplace(DenseMatrix& x, std::optional<double> base = std::nullopt);

struct ScaleOptions {
  bool zero_center = true;
  // scanpy `max_value`: values above it are set to it. With zero_center, values below
  // -max_value are set to -max_value as well (scanpy >= 1.10; 1.9 clipped the top only).
  std::optional<double> max_value;
};
struct Scaled {
  DenseMatrix x;
  std::vector<double> mean, std;  // per gene; std uses ddof = 1 and 0 is replaced by 1
};
// Per-gene standardization: (x - mean) / std (scanpy pp.scale). Densifies sparse input.
Scaled scale(const DenseMatrix& x, const ScaleOptions& opt = {});
Scaled scale(const CsrMatrix& x, const ScaleOptions& opt = {});

}  // namespace cg::omics
