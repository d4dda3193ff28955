#pragma once
// The perturbation question: of each cell type's top DEGs (stimulated vs control, Wilcoxon on
// log1p, by |z|), how many does an encoding still show as changed? A gene "changes" in an
// encoding when its encoded values differ between the conditions (Wilcoxon on the encoded
// values, Benjamini-Hochberg over the type's DEGs, adjusted p < 0.05): in log1p that is a change
// of value, in a rank encoding a change of rank, in bins a change of bin.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "omics/matrix.h"

namespace cg::encoding {

struct CellData;

struct TypeDegs {
  std::string type;
  std::vector<int64_t> genes;                    // top DEGs, strongest first
  std::vector<int64_t> control, stimulated;      // the type's cells
};

// Types with at least `min_cells` cells in each condition (others are skipped with a note).
std::vector<TypeDegs> top_degs_per_type(const CellData& d, int top, int min_cells = 3);

// {"<type>": {"degs": n, "changed": m}, ..., "total": {...}} for one encoding's gene features.
nlohmann::json changed_degs(const std::vector<TypeDegs>& degs, const omics::DenseMatrix& features);

}  // namespace cg::encoding
