#pragma once
// Highly variable genes, following scanpy pp.highly_variable_genes (single batch).
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

struct HvgResult {
  std::vector<double> means;        // seurat: log1p(mean of expm1(x)); v3: mean of counts
  std::vector<double> dispersions;  // seurat: log(var / mean) (NaN where var == 0); v3: variance
  std::vector<double> normalized;   // seurat: dispersions_norm; v3: variances_norm
  std::vector<bool> highly_variable;
  std::vector<int64_t> ranked;  // the highly variable genes, by `normalized` descending
};

struct SeuratHvgOptions {
  // With n_top_genes: keep genes whose normalized dispersion (NaN read as 0, as scanpy's
  // nan_to_num does) is >= the n-th largest non-NaN one (ties can add genes). Without it:
  // min_mean < mean < max_mean and min_disp < dispersion_norm < max_disp (scanpy defaults).
  std::optional<int64_t> n_top_genes;
  int n_bins = 20;
  double min_mean = 0.0125, max_mean = 3.0, min_disp = 0.5;
  double max_disp = std::numeric_limits<double>::infinity();
};

// Seurat flavor on log1p data: expm1, per-gene mean and variance (ddof 1), dispersion =
// var / mean (mean 0 -> 1e-12), log dispersion, means -> log1p; genes are binned by mean
// into n_bins equal-width bins (pandas.cut: right-closed, lowest edge lowered by 0.1% of the
// range) and each dispersion is z-scored within its bin (ddof 1). A bin holding a single
// gene gets normalized dispersion 1 (scanpy's rule); an all-NaN bin gives NaN.
HvgResult highly_variable_genes_seurat(const CsrMatrix& log_x, const SeuratHvgOptions& opt);

// Seurat v3 flavor on raw counts: loess (span, degree 2) of log10 var on log10 mean over the
// non-constant genes; reg_std = sqrt(10^fit) (1 for constant genes); counts are clipped at
// mean + reg_std * sqrt(n_cells); variances_norm = variance of the clipped counts around the
// unclipped mean, divided by reg_std^2. The n_top_genes largest are selected (ties: lower
// gene index first). Throws DataError when the matrix is not counts.
HvgResult highly_variable_genes_seurat_v3(const CsrMatrix& counts, int64_t n_top_genes, double span = 0.3,
                                          std::string_view name = "X");

}  // namespace cg::omics
