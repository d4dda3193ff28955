#include "apps/analyze_encoding/encodings.h"

#include <cmath>

#include "apps/analyze_encoding/data.h"
#include "base/registry.h"
#include "kernels/cpu/gemm.h"
#include "omics/pca.h"
#include "omics/pca_randomized.h"
#include "omics/quantile_bins.h"
#include "omics/rank_encoding.h"
#include "omics/rank_vectors.h"
#include "omics/value_recovery.h"

namespace cg::encoding {
namespace {

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? NAN : s / double(v.size());
}

// Share of the genes each cell holds at zero, averaged over cells.
double zero_share(const omics::CsrMatrix& x) {
  std::vector<double> share;
  for (int64_t r = 0; r < x.rows; ++r) {
    int64_t nz = 0;
    for (int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) nz += x.data[p] != 0.0f;
    share.push_back(double(x.cols - nz) / double(x.cols));
  }
  return mean_of(share);
}

Encoded log1p_encoding(const CellData& d, const Config&) {
  Encoded e;
  e.features = d.log.to_dense();
  e.bottom_tied_share = zero_share(d.log);
  e.value_r2.assign(static_cast<size_t>(d.log.rows), 1.0);
  e.value_recovery = "the values themselves";
  return e;
}

Encoded pca_encoding(const CellData& d, const Config& c) {
  omics::DenseMatrix x = d.log.to_dense();
  const int k = static_cast<int>(std::min<int64_t>({int64_t(c.pca_components), x.rows() - 1, x.cols()}));
  // The exact decomposition forms a min(cells, genes)^2 matrix: past 2,000 the randomized one.
  const bool exact = std::min(x.rows(), x.cols()) <= 2000;
  // Eigen's own threads split its products differently per thread count; one thread keeps the
  // exact fit the same bits for any OMP_NUM_THREADS (the randomized one uses the engine's GEMM).
  const int eigen_threads = Eigen::nbThreads();
  Eigen::setNbThreads(1);
  const omics::PcaModel m = exact ? omics::pca_fit(x, k) : omics::pca_fit_randomized(x, k, c.seed);
  Eigen::setNbThreads(eigen_threads);
  Encoded e;
  if (!exact)
    e.notes.push_back("pca: randomized PCA (subspace iteration, 4 power iterations; " + std::to_string(x.rows()) +
                      " cells x " + std::to_string(x.cols()) + " genes is too large for the exact decomposition)");
  if (k < c.pca_components)
    e.notes.push_back("pca: " + std::to_string(k) + " components (fewer cells or genes than --pca-components)");
  // Scores of the centered cells through the engine's GEMM (x is centered in place).
  const omics::DenseMatrix components = m.components.cast<float>();
  for (int64_t i = 0; i < x.rows(); ++i)
    for (int64_t g = 0; g < x.cols(); ++g) x(i, g) = static_cast<float>(double(x(i, g)) - m.mean[g]);
  e.features.resize(x.rows(), k);
  kernels::cpu::gemm<float>(false, true, x.rows(), k, x.cols(), 1.0f, x.data(), components.data(), 0.0f,
                            e.features.data());
  e.gene_columns = false;
  e.center = false;
  // Per cell R^2 of the log1p values against their k-component reconstruction.
  e.value_r2.resize(static_cast<size_t>(x.rows()));
  const Eigen::Map<const Eigen::RowVectorXd> mean(m.mean.data(), static_cast<Eigen::Index>(m.mean.size()));
  for (int64_t i = 0; i < x.rows(); ++i) {
    const Eigen::RowVectorXd centered = x.row(i).cast<double>();
    const Eigen::RowVectorXd residual = centered - e.features.row(i).cast<double>() * components.cast<double>();
    const Eigen::RowVectorXd value = centered + mean;
    const double ss_tot = (value.array() - value.mean()).matrix().squaredNorm();
    e.value_r2[static_cast<size_t>(i)] = ss_tot > 0 ? 1 - residual.squaredNorm() / ss_tot : NAN;
  }
  e.value_recovery = "reconstruction from " + std::to_string(k) + " components";
  return e;
}

// Geneformer (divisors = nonzero medians) or cell2sentence (divisors 1).
Encoded rank_encoding(const CellData& d, const std::vector<double>& divisors, int64_t length) {
  const omics::RankedCells r = omics::rank_cells(d.normalized, divisors, length);
  Encoded e;
  e.features = omics::rank_vectors(r);
  // What ranking drops; values back from log10(position) by one line over all cells.
  std::vector<double> bottom, tied, orderings;
  std::vector<std::vector<double>> codes(r.order.size()), values(r.order.size());
  std::vector<float> row(static_cast<size_t>(d.log.cols), 0.0f);
  for (int64_t i = 0; i < d.log.rows; ++i) {
    const omics::RankLoss l = omics::rank_loss(r, i);
    bottom.push_back(double(l.bottom_tied) / double(r.genes));
    tied.push_back(double(l.tied_listed));
    orderings.push_back(l.log10_orderings);
    for (int64_t p = d.log.indptr[i]; p < d.log.indptr[i + 1]; ++p) row[d.log.indices[p]] = d.log.data[p];
    const auto& order = r.order[static_cast<size_t>(i)];
    for (size_t pos = 0; pos < order.size(); ++pos) {
      codes[static_cast<size_t>(i)].push_back(std::log10(double(pos + 1)));
      values[static_cast<size_t>(i)].push_back(row[order[pos]]);
    }
    for (int64_t p = d.log.indptr[i]; p < d.log.indptr[i + 1]; ++p) row[d.log.indices[p]] = 0.0f;
  }
  e.bottom_tied_share = mean_of(bottom);
  e.tied_listed = mean_of(tied);
  e.log10_orderings = mean_of(orderings);
  const omics::PooledLineFit fit = omics::fit_pooled_line(codes, values);
  e.value_r2 = fit.r2;
  char buf[160];
  std::snprintf(buf, sizeof buf, "log1p value = %.4g log10(rank) + %.4g over all cells (cell2sentence), listed genes",
                fit.slope, fit.intercept);
  e.value_recovery = buf;
  return e;
}

Encoded geneformer_encoding(const CellData& d, const Config& c) {
  return rank_encoding(d, omics::gene_nonzero_medians(d.normalized), c.rank_length);
}

Encoded cell2sentence_encoding(const CellData& d, const Config& c) {
  return rank_encoding(d, std::vector<double>(static_cast<size_t>(d.normalized.cols), 1.0), c.top_genes);
}

Encoded bins_encoding(const CellData& d, const Config& c) {
  Encoded e;
  e.features = omics::quantile_bins(d.log, c.bins);
  e.bottom_tied_share = zero_share(d.log);
  std::vector<std::vector<double>> codes(static_cast<size_t>(d.log.rows)), values(codes.size());
  std::vector<double> tied, orderings;
  for (int64_t i = 0; i < d.log.rows; ++i) {
    std::vector<int64_t> per_bin(static_cast<size_t>(c.bins), 0);
    for (int64_t p = d.log.indptr[i]; p < d.log.indptr[i + 1]; ++p) {
      if (d.log.data[p] == 0.0f) continue;
      const float b = e.features(i, d.log.indices[p]);
      codes[static_cast<size_t>(i)].push_back(b);
      values[static_cast<size_t>(i)].push_back(d.log.data[p]);
      ++per_bin[static_cast<size_t>(b)];
    }
    // Genes sharing a bin can no longer be ordered: the orderings the bins merge.
    double t = 0, o = 0;
    for (size_t b = 1; b < per_bin.size(); ++b)
      if (per_bin[b] > 1) {
        t += double(per_bin[b]);
        o += std::lgamma(double(per_bin[b]) + 1) / std::log(10.0);
      }
    tied.push_back(t);
    orderings.push_back(o);
  }
  e.tied_listed = mean_of(tied);
  e.log10_orderings = mean_of(orderings);
  const omics::PooledLineFit fit = omics::fit_pooled_line(codes, values);
  e.value_r2 = fit.r2;
  char buf[160];
  std::snprintf(buf, sizeof buf, "log1p value = %.4g bin + %.4g over all cells, nonzero genes", fit.slope,
                fit.intercept);
  e.value_recovery = buf;
  return e;
}

}  // namespace

const std::vector<EncodingEntry>& encoding_registry() {
  static const std::vector<EncodingEntry> entries = {
      {"log1p", "normalize_total 1e4 + log1p (log-normalised input as it is): the baseline", "Pearson", log1p_encoding},
      {"pca", "the leading principal components of log1p (--pca-components, 50)", "cosine", pca_encoding},
      {"rank",
       "Geneformer: each gene over its nonzero median, nonzero genes ranked per cell, top --rank-length (2048)",
       "Spearman", geneformer_encoding},
      {"rank-top100", "cell2sentence: the --top-genes (100) highest genes per cell, in order", "Spearman",
       cell2sentence_encoding},
      {"bins", "scGPT: per-cell quantile bins of the nonzero values (--bins, 51, bin 0 = zero)", "Pearson",
       bins_encoding},
  };
  return entries;
}

const EncodingEntry& encoding_named(const std::string& name) {
  return find_named(encoding_registry(), name, "--encodings: unknown encoding");
}

std::string encodings_help() {
  std::string s;
  for (const auto& e : encoding_registry()) s += "\n  " + e.name + ": " + e.description;
  return s;
}

}  // namespace cg::encoding
