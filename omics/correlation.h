#pragma once
// Correlations used by the evaluation metrics, accumulated in double.
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

// Pearson correlation; NaN when either input is constant (as scipy.stats.pearsonr warns).
double pearson(const std::vector<double>& a, const std::vector<double>& b);

// 1-based ranks with ties given their average rank (scipy.stats.rankdata 'average').
std::vector<double> average_ranks(const std::vector<double>& v);

// Spearman = Pearson of the average ranks (scipy.stats.spearmanr).
double spearman(const std::vector<double>& a, const std::vector<double>& b);

// Spearman correlation between every pair of rows (cells) of x: rows x rows, symmetric.
DenseMatrixD spearman_rows(const DenseMatrix& x);

}  // namespace cg::omics
