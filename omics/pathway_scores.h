#pragma once
// Pathway-level view of a perturbation response: a gene set's score is the mean, over its genes
// present in the data, of the per-gene response (mean perturbed - mean control expression; on
// log1p data a log-fold-change). Simple on purpose: it needs no fitting, works on any model's
// predicted cells, and real and predicted scores are directly comparable.
#include <cstdint>
#include <string>
#include <vector>

namespace cg::omics {

// Per set: mean of delta[g] over members[s] (dataset gene indices); NaN for an empty set.
std::vector<double> pathway_scores(const std::vector<double>& delta, const std::vector<std::vector<int64_t>>& members);

// 1-based ranks by |score| descending (the largest change, up or down, first); ties keep the
// earlier set first; NaN scores rank last.
std::vector<int64_t> rank_by_magnitude(const std::vector<double>& scores);

struct PathwayDiscrepancy {
  std::vector<std::string> ids;
  std::vector<int64_t> genes_present;
  std::vector<double> real, predicted;          // scores
  std::vector<int64_t> real_rank, predicted_rank;
  double pearson = 0;  // over pathways of real vs predicted scores (NaN when either is constant)
};

// real_delta / pred_delta: per gene, mean perturbed (real, resp. predicted) - mean control.
PathwayDiscrepancy pathway_discrepancy(const std::vector<std::string>& ids,
                                       const std::vector<std::vector<int64_t>>& members,
                                       const std::vector<double>& real_delta, const std::vector<double>& pred_delta);

// The table in real-rank order: CSV (pathway,genes,real_score,predicted_score,real_rank,
// predicted_rank) and a markdown table with the same columns under `title`.
std::string discrepancy_csv(const PathwayDiscrepancy& d);
std::string discrepancy_markdown(const PathwayDiscrepancy& d, const std::string& title);

}  // namespace cg::omics
