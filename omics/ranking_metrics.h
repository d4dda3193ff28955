#pragma once
// Ranking metrics of scores against binary truth, as scikit-learn computes them: roc_auc_score
// (ties count one half) and average_precision_score (precision at each distinct score, weighted
// by the recall it adds), and their means over the rows or columns of a matrix (per cell and
// per peak for predicted chromatin accessibility).
#include <cstdint>
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

struct RankingScores {
  double auroc = 0, auprc = 0;
};

// One ranking: truth[i] > 0.5 is a positive. NaN in both when truth is all positive or all
// negative (sklearn refuses those).
RankingScores ranking_scores(const std::vector<double>& truth, const std::vector<double>& scores);

// Means over rows (cells) or columns (features) of the per-row / per-column scores of `scores`
// against `truth` (same shape); rows or columns whose truth has a single class are skipped,
// `counted` says how many were used. NaN when none qualifies.
struct RankingMeans {
  double auroc = 0, auprc = 0;
  int64_t counted = 0;
};
RankingMeans mean_ranking_per_row(const DenseMatrix& truth, const DenseMatrix& scores);
RankingMeans mean_ranking_per_column(const DenseMatrix& truth, const DenseMatrix& scores);

}  // namespace cg::omics
