#include "omics/metrics_deg.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <string>

#include "omics/error.h"
#include "omics/gene_stats.h"
#include "omics/special_functions.h"

namespace cg::omics {
namespace {

struct RankSum {
  double group_sum;   // sum of the first n1 values' average ranks
  double tie_factor;  // scipy tiecorrect
};

// `v` holds the group's values first, then the reference's.
RankSum rank_sum(std::vector<float>& v, std::vector<int32_t>& idx, size_t n1) {
  const size_t n = v.size();
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) { return v[a] < v[b] || (v[a] == v[b] && a < b); });
  double sum = 0, ties = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && v[idx[j + 1]] == v[idx[i]]) ++j;
    const double avg = 0.5 * double(i + j) + 1.0;
    for (size_t k = i; k <= j; ++k)
      if (static_cast<size_t>(idx[k]) < n1) sum += avg;
    const double t = double(j - i + 1);
    ties += t * t * t - t;
    i = j + 1;
  }
  const double nn = double(n);
  return {sum, n > 1 ? 1.0 - ties / (nn * nn * nn - nn) : 1.0};
}

}  // namespace

std::vector<int64_t> DegResult::top(int64_t k) const {
  k = std::clamp<int64_t>(k, 0, static_cast<int64_t>(ranking.size()));
  return {ranking.begin(), ranking.begin() + k};
}

std::vector<double> benjamini_hochberg(const std::vector<double>& p) {
  const size_t n = p.size();
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> out(n);
  double running = INFINITY;
  for (size_t k = n; k-- > 0;) {
    running = std::min(running, p[idx[k]] * double(n) / double(k + 1));
    out[idx[k]] = std::min(running, 1.0);
  }
  return out;
}

DegResult rank_genes_groups(const DenseMatrix& group, const DenseMatrix& reference, const DegOptions& opt) {
  if (group.cols() != reference.cols())
    throw DataError("rank_genes_groups: group has " + std::to_string(group.cols()) + " genes but reference has " +
                    std::to_string(reference.cols()));
  const int64_t n1 = group.rows(), n2 = reference.rows();
  if (n1 < 2 || n2 < 2)
    throw DataError("rank_genes_groups: need at least 2 cells in each group, got " + std::to_string(n1) +
                    " (group) and " + std::to_string(n2) + " (reference)");
  if (!group.allFinite() || !reference.allFinite())
    throw DataError("rank_genes_groups: expression matrix holds NaN or inf values");
  const auto G = static_cast<int64_t>(group.cols());
  const auto s1 = gene_mean_var(group), s2 = gene_mean_var(reference);
  DegResult r;
  r.scores.resize(G);
  r.pvals.resize(G);
  r.logfoldchanges.resize(G);
  if (opt.method == DegMethod::wilcoxon) {
    const double a = double(n1), b = double(n2);
#pragma omp parallel
    {
      std::vector<float> v(static_cast<size_t>(n1 + n2));
      std::vector<int32_t> idx(v.size());
#pragma omp for schedule(static)
      for (int64_t g = 0; g < G; ++g) {
        for (int64_t i = 0; i < n1; ++i) v[i] = group(i, g);
        for (int64_t i = 0; i < n2; ++i) v[n1 + i] = reference(i, g);
        const auto rs = rank_sum(v, idx, static_cast<size_t>(n1));
        const double T = opt.tie_correct ? rs.tie_factor : 1.0;
        double z = (rs.group_sum - a * (a + b + 1.0) / 2.0) / std::sqrt(T * a * b * (a + b + 1.0) / 12.0);
        if (std::isnan(z)) z = 0.0;
        r.scores[g] = z;
        r.pvals[g] = 2.0 * normal_sf(std::abs(z));
      }
    }
  } else {
    for (int64_t g = 0; g < G; ++g) {
      const double v1 = s1.var[g] / double(n1), v2 = s2.var[g] / double(n2);
      double t = (s1.mean[g] - s2.mean[g]) / std::sqrt(v1 + v2);
      const double df = (v1 + v2) * (v1 + v2) / (v1 * v1 / double(n1 - 1) + v2 * v2 / double(n2 - 1));
      double p = student_t_two_sided_p(t, df);
      if (std::isnan(t)) t = 0.0;
      if (std::isnan(p)) p = 1.0;
      r.scores[g] = t;
      r.pvals[g] = p;
    }
  }
  for (int64_t g = 0; g < G; ++g)
    r.logfoldchanges[g] = std::log2((std::expm1(s1.mean[g]) + 1e-9) / (std::expm1(s2.mean[g]) + 1e-9));
  r.pvals_adj = benjamini_hochberg(r.pvals);
  r.ranking.resize(G);
  std::iota(r.ranking.begin(), r.ranking.end(), 0);
  std::stable_sort(r.ranking.begin(), r.ranking.end(), [&](int64_t x, int64_t y) { return r.scores[x] > r.scores[y]; });
  return r;
}

DegResult rank_genes_groups(const CsrMatrix& group, const CsrMatrix& reference, const DegOptions& opt) {
  return rank_genes_groups(group.to_dense(), reference.to_dense(), opt);
}

int64_t common_top_k(const std::vector<int64_t>& a, const std::vector<int64_t>& b, int64_t k) {
  if (k < 0) throw DataError("common_top_k: k must be >= 0");
  const auto ka = std::min<size_t>(static_cast<size_t>(k), a.size());
  const auto kb = std::min<size_t>(static_cast<size_t>(k), b.size());
  const std::set<int64_t> sa(a.begin(), a.begin() + ka);
  int64_t n = 0;
  for (size_t i = 0; i < kb; ++i) n += sa.count(b[i]);
  return n;
}

}  // namespace cg::omics
