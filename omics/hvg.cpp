#include "omics/hvg.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "omics/counts_check.h"
#include "omics/error.h"
#include "omics/gene_stats.h"
#include "omics/loess.h"

namespace cg::omics {
namespace {

// pandas.cut(values, bins=n) bin ids (values must be finite).
std::vector<int> equal_width_bins(const std::vector<double>& v, int n_bins) {
  const double mn = *std::min_element(v.begin(), v.end());
  const double mx = *std::max_element(v.begin(), v.end());
  std::vector<int> id(v.size(), 0);
  if (mx == mn) return id;
  // numpy.linspace(mn, mx, n + 1): start + i * step, last edge exactly mx.
  std::vector<double> edges(static_cast<size_t>(n_bins) + 1);
  const double step = (mx - mn) / n_bins;
  for (int i = 0; i < n_bins; ++i) edges[i] = mn + i * step;
  edges[n_bins] = mx;
  edges[0] -= (mx - mn) * 0.001;
  for (size_t g = 0; g < v.size(); ++g) {
    // right-closed bins (e_{k-1}, e_k]: the bin is (first edge >= v) - 1.
    const auto it = std::lower_bound(edges.begin(), edges.end(), v[g]);
    id[g] = static_cast<int>(it - edges.begin()) - 1;
  }
  return id;
}

std::vector<int64_t> rank_desc(const std::vector<double>& score, const std::vector<bool>& keep) {
  std::vector<int64_t> idx;
  for (size_t g = 0; g < score.size(); ++g)
    if (keep[g]) idx.push_back(static_cast<int64_t>(g));
  auto key = [&](int64_t g) { return std::isnan(score[g]) ? 0.0 : score[g]; };
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return key(a) > key(b); });
  return idx;
}

}  // namespace

HvgResult highly_variable_genes_seurat(const CsrMatrix& log_x, const SeuratHvgOptions& opt) {
  if (log_x.cols == 0) throw DataError("highly_variable_genes_seurat: matrix has no genes");
  if (log_x.rows < 2) throw DataError("highly_variable_genes_seurat: need at least 2 cells");
  if (opt.n_bins < 1) throw DataError("highly_variable_genes_seurat: n_bins must be >= 1");
  const auto mv = gene_mean_var(log_x, /*expm1_first=*/true);
  const size_t G = mv.mean.size();
  HvgResult r;
  r.means.resize(G);
  r.dispersions.resize(G);
  for (size_t g = 0; g < G; ++g) {
    const double mean = mv.mean[g] == 0 ? 1e-12 : mv.mean[g];
    const double disp = mv.var[g] / mean;
    r.dispersions[g] = disp == 0 ? NAN : std::log(disp);
    r.means[g] = std::log1p(mean);
  }
  // Per-bin mean and sample std of the non-NaN dispersions (pandas groupby skips NaN).
  const auto bin = equal_width_bins(r.means, opt.n_bins);
  std::vector<double> sum(opt.n_bins, 0.0), sq(opt.n_bins, 0.0);
  std::vector<int64_t> cnt(opt.n_bins, 0);
  for (size_t g = 0; g < G; ++g)
    if (!std::isnan(r.dispersions[g])) sum[bin[g]] += r.dispersions[g], ++cnt[bin[g]];
  std::vector<double> bmean(opt.n_bins), bstd(opt.n_bins);
  for (int b = 0; b < opt.n_bins; ++b) bmean[b] = cnt[b] ? sum[b] / cnt[b] : NAN;
  for (size_t g = 0; g < G; ++g)
    if (!std::isnan(r.dispersions[g])) {
      const double d = r.dispersions[g] - bmean[bin[g]];
      sq[bin[g]] += d * d;
    }
  for (int b = 0; b < opt.n_bins; ++b) {
    bstd[b] = cnt[b] > 1 ? std::sqrt(sq[b] / double(cnt[b] - 1)) : NAN;
    // scanpy: where the std is undefined (one gene in the bin), use std = bin mean and
    // mean = 0, which makes that gene's normalized dispersion exactly 1.
    if (std::isnan(bstd[b])) bstd[b] = bmean[b], bmean[b] = 0.0;
  }
  r.normalized.resize(G);
  for (size_t g = 0; g < G; ++g) r.normalized[g] = (r.dispersions[g] - bmean[bin[g]]) / bstd[bin[g]];

  r.highly_variable.assign(G, false);
  if (opt.n_top_genes) {
    std::vector<double> finite_vals;
    for (double v : r.normalized)
      if (!std::isnan(v)) finite_vals.push_back(v);
    const int64_t n = *opt.n_top_genes;
    if (n < 1 || n > static_cast<int64_t>(finite_vals.size()))
      throw DataError("highly_variable_genes_seurat: n_top_genes = " + std::to_string(n) + " but only " +
                      std::to_string(finite_vals.size()) + " genes have a defined normalized dispersion");
    std::nth_element(finite_vals.begin(), finite_vals.begin() + (n - 1), finite_vals.end(), std::greater<double>());
    const double cutoff = finite_vals[n - 1];
    for (size_t g = 0; g < G; ++g) {
      double v = r.normalized[g];
      if (std::isnan(v)) v = 0.0;  // numpy.nan_to_num
      r.highly_variable[g] = v >= cutoff;
    }
  } else {
    for (size_t g = 0; g < G; ++g) {
      const double d = std::isnan(r.normalized[g]) ? 0.0 : r.normalized[g];
      r.highly_variable[g] =
          r.means[g] > opt.min_mean && r.means[g] < opt.max_mean && d > opt.min_disp && d < opt.max_disp;
    }
  }
  r.ranked = rank_desc(r.normalized, r.highly_variable);
  return r;
}

HvgResult highly_variable_genes_seurat_v3(const CsrMatrix& counts, int64_t n_top_genes, double span,
                                          std::string_view name) {
  require_counts(counts, name);
  const int64_t N = counts.rows;
  const auto G = static_cast<size_t>(counts.cols);
  if (N < 2) throw DataError("highly_variable_genes_seurat_v3: need at least 2 cells");
  if (n_top_genes < 1 || n_top_genes > counts.cols)
    throw DataError("highly_variable_genes_seurat_v3: n_top_genes = " + std::to_string(n_top_genes) +
                    " but the matrix has " + std::to_string(counts.cols) + " genes");
  const auto mv = gene_mean_var(counts);
  std::vector<double> lx, ly;
  std::vector<size_t> varying;
  for (size_t g = 0; g < G; ++g)
    if (mv.var[g] > 0) {
      varying.push_back(g);
      lx.push_back(std::log10(mv.mean[g]));
      ly.push_back(std::log10(mv.var[g]));
    }
  const auto fit = loess_fit(lx, ly, span, 2);
  std::vector<double> reg_std(G, 1.0);  // 10^0 for constant genes, as scanpy's zeros give
  for (size_t k = 0; k < varying.size(); ++k) reg_std[varying[k]] = std::sqrt(std::pow(10.0, fit[k]));

  const double vmax = std::sqrt(double(N));
  std::vector<double> s(G, 0.0), s2(G, 0.0);
  for (int64_t p = 0; p < counts.nnz(); ++p) {
    const auto g = static_cast<size_t>(counts.indices[p]);
    const double v = std::min<double>(counts.data[p], reg_std[g] * vmax + mv.mean[g]);
    s[g] += v;
    s2[g] += v * v;
  }
  HvgResult r;
  r.means = mv.mean;
  r.dispersions = mv.var;
  r.normalized.resize(G);
  for (size_t g = 0; g < G; ++g) {
    const double m = mv.mean[g];
    r.normalized[g] = (double(N) * m * m + s2[g] - 2.0 * s[g] * m) / (double(N - 1) * reg_std[g] * reg_std[g]);
  }
  std::vector<int64_t> order(G);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return r.normalized[a] > r.normalized[b]; });
  order.resize(static_cast<size_t>(n_top_genes));
  r.highly_variable.assign(G, false);
  for (int64_t g : order) r.highly_variable[g] = true;
  r.ranked = order;
  return r;
}

}  // namespace cg::omics
