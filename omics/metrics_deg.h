#pragma once
// Differentially expressed genes of one group against a reference group, ranked the way
// scanpy.tl.rank_genes_groups(groups=[group], reference=ref) ranks them. Input is log1p data.
#include <cstdint>
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

enum class DegMethod { wilcoxon, t_test };

struct DegOptions {
  DegMethod method = DegMethod::wilcoxon;
  // Wilcoxon only. scanpy's default is false; with true the variance of U is multiplied by
  // scipy's tiecorrect factor 1 - sum(t^3 - t) / (n^3 - n) over the pooled values.
  bool tie_correct = false;
};

struct DegResult {
  // Per gene, in input gene order.
  std::vector<double> scores;          // wilcoxon: z of the group's rank sum; t_test: Welch t
  std::vector<double> pvals;           // two-sided; normal for wilcoxon, Welch t for t_test
  std::vector<double> pvals_adj;       // Benjamini-Hochberg over all genes
  std::vector<double> logfoldchanges;  // log2((expm1(mean_g) + 1e-9) / (expm1(mean_ref) + 1e-9))
  std::vector<int64_t> ranking;        // all genes by score descending (ties: lower index first)
  std::vector<int64_t> top(int64_t k) const;
};

// Wilcoxon: ranks of the pooled cells (average for ties), R = sum of the group's ranks,
// z = (R - n1 (n1 + n2 + 1) / 2) / sqrt(T n1 n2 (n1 + n2 + 1) / 12), NaN z -> 0 (scanpy).
// t-test: Welch's t from the group/reference means and ddof-1 variances
// (scipy ttest_ind_from_stats(equal_var=False)); NaN scores -> 0, NaN p-values -> 1.
// Means for the fold change are of the log data, as scanpy computes them.
DegResult rank_genes_groups(const DenseMatrix& group, const DenseMatrix& reference, const DegOptions& opt = {});
DegResult rank_genes_groups(const CsrMatrix& group, const CsrMatrix& reference, const DegOptions& opt = {});

// statsmodels multipletests(method='fdr_bh') adjusted p-values.
std::vector<double> benjamini_hochberg(const std::vector<double>& pvals);

// |top_k(a) intersect top_k(b)| for two rankings (e.g. DEGs of real vs predicted response).
int64_t common_top_k(const std::vector<int64_t>& ranking_a, const std::vector<int64_t>& ranking_b, int64_t k);

}  // namespace cg::omics
