#pragma once
// scGPT's value binning (Cui et al. 2024, scgpt/preprocess.py, binning): per cell, the nonzero
// values are cut at their own quantiles, so a bin says where a gene stands within its cell and
// nothing about the cell's depth.
#include <cstdint>
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

// Per cell: edges = numpy.quantile(nonzero values, linspace(0, 1, n_bins - 1)) (linear
// interpolation, computed in double as numpy does for float64 input); a nonzero value gets
// numpy.digitize(value, edges) = the number of edges <= value, in 1 .. n_bins - 1; zeros stay 0.
// scGPT's default breaks a value lying on an edge at random between its two bins ("both"); here
// it takes the upper one (scGPT's side "one"), so the result is deterministic.
// cells x genes, bins as floats (0 .. n_bins - 1). n_bins >= 3.
DenseMatrix quantile_bins(const CsrMatrix& x, int n_bins = 51);

}  // namespace cg::omics
