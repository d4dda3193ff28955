#pragma once
// Agreement between predicted and real expression (perturbation and translation tasks).
#include <cstdint>
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

// R^2 of means (scGen): squared Pearson correlation between the per-gene means of `pred`
// and `real` (cells x genes each, same gene order); scipy.stats.linregress(x, y).rvalue**2.
// NaN when either mean vector is constant.
double r2_of_means(const DenseMatrix& pred, const DenseMatrix& real);
// The same restricted to the given genes (e.g. the top-100 DEGs of the real response).
double r2_of_means(const DenseMatrix& pred, const DenseMatrix& real, const std::vector<int64_t>& genes);

// sklearn.metrics.r2_score(y_true, y_pred, multioutput='uniform_average'): per feature
// 1 - SS_res / SS_tot, averaged. A constant true feature scores 1 when predicted exactly
// and 0 otherwise (sklearn's rule), so it never yields -inf.
double r2_score(const DenseMatrix& y_true, const DenseMatrix& y_pred);
// The per-feature scores behind the average.
std::vector<double> r2_score_per_feature(const DenseMatrix& y_true, const DenseMatrix& y_pred);

// Pearson correlation of mean responses: mean(pred) - mean(ctrl) vs mean(real) - mean(ctrl),
// per gene. Unlike R^2 of means it ignores the baseline both share.
double pearson_of_deltas(const DenseMatrix& pred, const DenseMatrix& real, const DenseMatrix& ctrl);

}  // namespace cg::omics
