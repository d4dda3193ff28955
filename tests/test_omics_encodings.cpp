// Rank-value encodings as vectors, scGPT bins, blocked pairwise similarity and the kNN / pair
// measures behind analyze_encoding: against scipy / numpy on Kang cells
// (scripts/reference_encoding.py) and against brute force on random cells.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "omics/anndata.h"
#include "omics/filter.h"
#include "omics/nearest_neighbors.h"
#include "omics/pair_histogram.h"
#include "omics/pairwise_similarity.h"
#include "omics/pca.h"
#include "omics/pca_randomized.h"
#include "omics/quantile_bins.h"
#include "omics/rank_encoding.h"
#include "omics/rank_vectors.h"
#include "omics/similarity_measures.h"
#include "omics/value_recovery.h"
#include "omics_reference_io.h"
#include "test_paths.h"

using namespace cg::omics;
using cg::test::close;

namespace {

// All-pairs similarities of unit rows streamed in tiles of `block`, gathered into a matrix.
DenseMatrixD gathered_similarities(const DenseMatrix& z, int64_t block) {
  DenseMatrixD s = DenseMatrixD::Constant(z.rows(), z.rows(), NAN);
  for_each_similarity_tile(z, block, [&](const SimilarityTile& t) {
    for (int64_t i = 0; i < t.rows; ++i)
      for (int64_t j = 0; j < t.cols; ++j) {
        s(t.row0 + i, t.col0 + j) = t.at(i, j);
        s(t.col0 + j, t.row0 + i) = t.at(i, j);
      }
  });
  return s;
}

}  // namespace

TEST_CASE("encodings: Geneformer and cell2sentence ranks, Spearman, bins and Pearson match scipy on Kang cells") {
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad"})) return;
  const AnnData a = read_h5ad(cg::test::data_path("perturbation/kang_scgen_valid_lognorm.h5ad"));
  CsrMatrix norm = a.X.csr;
  for (auto& v : norm.data) v = static_cast<float>(std::expm1(double(v)));
  const auto medians = gene_nonzero_medians(norm);
  std::vector<int64_t> first(20);
  for (int64_t i = 0; i < 20; ++i) first[static_cast<size_t>(i)] = i;
  const CsrMatrix sub = csr_select_rows(norm, first), log_sub = csr_select_rows(a.X.csr, first);
  const DenseMatrix gf = rank_vectors(rank_cells(sub, medians, 2048));
  const DenseMatrix c2s = rank_vectors(rank_cells(sub, std::vector<double>(medians.size(), 1.0), 100));
  const DenseMatrix bins = quantile_bins(log_sub, 51);

  const auto ranks = cg::test::read_table("kang_encoding_ranks.tsv");
  REQUIRE(ranks.size() > 1000);
  int rank_mismatch = 0, bin_mismatch = 0;
  for (const auto& r : ranks) {
    const auto i = static_cast<int64_t>(r[0]), g = static_cast<int64_t>(r[1]);
    rank_mismatch += gf(i, g) != r[2];
    rank_mismatch += c2s(i, g) != r[3];
    bin_mismatch += bins(i, g) != r[4];
  }
  CHECK(rank_mismatch == 0);
  CHECK(bin_mismatch == 0);

  // Pearson of the rank vectors (Spearman) and of log1p, streamed in tiles of 7 rows.
  const DenseMatrixD s_gf = gathered_similarities(unit_rows(gf, true), 7);
  const DenseMatrixD s_c2s = gathered_similarities(unit_rows(c2s, true), 7);
  const DenseMatrixD s_log = gathered_similarities(unit_rows(log_sub.to_dense(), true), 7);
  const auto pairs = cg::test::read_table("kang_encoding_pairs.tsv");
  REQUIRE(pairs.size() == 190);
  double worst = 0;
  for (const auto& p : pairs) {
    const auto i = static_cast<int64_t>(p[0]), j = static_cast<int64_t>(p[1]);
    worst = std::max({worst, std::abs(s_gf(i, j) - p[2]), std::abs(s_c2s(i, j) - p[3]), std::abs(s_log(i, j) - p[4])});
  }
  CHECK(worst < 2e-6);  // float32 unit rows through a float GEMM
  for (int64_t i = 0; i < 20; ++i) CHECK(std::abs(s_gf(i, i) - 1.0) < 1e-5);
}

TEST_CASE("encodings: rank loss counts ties and orderings; cut genes tie at the bottom; bins of a tiny cell") {
  CsrMatrix x = CsrMatrix::from_dense((DenseMatrix(2, 6) << 0, 3, 1, 3, 3, 2,  //
                                       0, 0, 0, 0, 0, 0)
                                          .finished());
  const RankedCells r = rank_cells(x, std::vector<double>(6, 1.0), 3);
  CHECK(r.order[0] == std::vector<int64_t>{1, 3, 4});
  CHECK(r.order[1].empty());
  const DenseMatrix v = rank_vectors(r);
  // Three tied listed genes share ranks 4..6; the other three (one cut by the length) share 1..3.
  CHECK(v(0, 1) == 5.0f);
  CHECK(v(0, 4) == 5.0f);
  CHECK(v(0, 0) == 2.0f);
  CHECK(v(0, 5) == 2.0f);
  CHECK(v(1, 2) == 3.5f);  // an empty cell: every gene tied
  const RankLoss l = rank_loss(r, 0);
  CHECK(l.listed == 3);
  CHECK(l.bottom_tied == 3);
  CHECK(l.tied_listed == 3);
  CHECK(l.log10_orderings == doctest::Approx(std::log10(6.0)));
  std::vector<int64_t> bad;
  const DenseMatrix z = unit_rows(v, true, &bad);
  CHECK(bad == std::vector<int64_t>{1});  // constant row: zero, never NaN
  CHECK(z.row(1).norm() == 0.0f);
  // Bins: 4 nonzero values 1, 2, 3, 3 with 3 bins -> edges quantile(0, 1) = (1, 3): digitize 1, 1, 2, 2.
  const DenseMatrix b = quantile_bins(x, 3);
  CHECK(b(0, 2) == 1.0f);
  CHECK(b(0, 5) == 1.0f);
  CHECK(b(0, 1) == 2.0f);
  CHECK(b(0, 0) == 0.0f);
}

TEST_CASE("encodings: a pooled line recovers values and gives per-cell R^2") {
  const auto f = fit_pooled_line({{0, 1, 2}, {0, 1, 2}, {5}}, {{1, 3, 5}, {1, 3, 6}, {11}});
  CHECK(f.slope == doctest::Approx(2.0).epsilon(0.05));
  CHECK(f.r2[0] > 0.95);
  CHECK(std::isnan(f.r2[2]));  // one entry
}

TEST_CASE("encodings: AUROC from the pair histogram matches the exact one within its bound") {
  std::mt19937 rng(3);
  std::normal_distribution<double> n(0, 0.2);
  std::vector<double> pos, neg;
  PairHistogram h(1 << 10);
  for (int i = 0; i < 3000; ++i) {
    const double p = std::clamp(0.3 + n(rng), -1.0, 1.0), q = std::clamp(0.1 + n(rng), -1.0, 1.0);
    pos.push_back(p);
    neg.push_back(q);
    h.add(p, true);
    h.add(q, false);
  }
  const double exact = auroc_exact(pos, neg);
  CHECK(std::abs(h.auroc() - exact) <= h.auroc_bound() + 1e-12);
  CHECK(h.auroc_bound() < 2e-3);  // 1024 bins; the app uses 65536
  CHECK(auroc_exact({1, 2}, {0, 2}) == doctest::Approx(0.625));  // 1>0, 1<2, 2>0, 2=2: 2.5 of 4
  CHECK(h.summary(true).mean == doctest::Approx(0.3).epsilon(0.05));
  CHECK(std::isnan(PairHistogram(4).auroc()));
}

TEST_CASE("encodings: streamed kNN purity, accuracy, mixing, outliers and pair counts equal brute force") {
  // Random cells in 9 dimensions with a label signal; similarities in double by plain loops.
  const int64_t n = 131;
  std::mt19937 rng(11);
  std::normal_distribution<float> g(0, 1);
  std::vector<int> labels(n), batches(n);
  DenseMatrix x(n, 9);
  for (int64_t i = 0; i < n; ++i) {
    labels[i] = static_cast<int>(rng() % 4);
    batches[i] = static_cast<int>(rng() % 3);
    for (int64_t d = 0; d < 9; ++d) x(i, d) = g(rng) + (d == labels[i] ? 1.5f : 0.0f) + (d == 8 ? 0.7f * batches[i] : 0.f);
  }
  const DenseMatrix z = unit_rows(x, true);
  DenseMatrixD s(n, n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double dot = 0;
      for (int64_t d = 0; d < 9; ++d) dot += double(z(i, d)) * double(z(j, d));
      s(i, j) = dot;
    }
  const int k = 15;
  // Brute force: neighbours by sorting each row.
  std::vector<std::vector<int64_t>> knn(n), knn_same(n);
  int64_t within = 0, between = 0;
  std::vector<double> pos, neg;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<int64_t> others;
    for (int64_t j = 0; j < n; ++j)
      if (j != i) others.push_back(j);
    std::sort(others.begin(), others.end(), [&](int64_t a, int64_t b) { return s(i, a) > s(i, b); });
    for (int64_t j : others) {
      if (static_cast<int>(knn[i].size()) < k) knn[i].push_back(j);
      if (labels[j] == labels[i] && static_cast<int>(knn_same[i].size()) < k) knn_same[i].push_back(j);
    }
    for (int64_t j = i + 1; j < n; ++j) {
      (labels[i] == labels[j] ? within : between) += 1;
      (labels[i] == labels[j] ? pos : neg).push_back(s(i, j));
    }
  }
  SimilarityOptions o;
  o.k = k;
  o.block = 17;  // 8 row blocks: diagonal and off-diagonal tiles, a short last block
  o.same_label_neighbors = true;
  const SimilarityMeasures m = measure_similarities(z, labels, o);
  for (int64_t i = 0; i < n; ++i) {
    REQUIRE(m.neighbors.count(i) == k);
    for (int r = 0; r < k; ++r) CHECK(m.neighbors.index(i, r) == knn[i][static_cast<size_t>(r)]);
    REQUIRE(m.same_label.count(i) == static_cast<int>(knn_same[i].size()));
    for (int r = 0; r < m.same_label.count(i); ++r) CHECK(m.same_label.index(i, r) == knn_same[i][static_cast<size_t>(r)]);
  }
  CHECK(m.histogram.summary(true).pairs == within);
  CHECK(m.histogram.summary(false).pairs == between);
  CHECK(std::abs(m.histogram.auroc() - auroc_exact(pos, neg)) <= m.histogram.auroc_bound() + 1e-6);

  // Purity, leave-one-out accuracy and mixing from the brute-force lists.
  double purity = 0, mix_obs = 0, mix_exp = 0;
  int64_t right = 0, mixed_cells = 0;
  std::map<int, int> type_n;
  std::map<std::pair<int, int>, int> type_batch_n;
  for (int64_t i = 0; i < n; ++i) {
    ++type_n[labels[i]];
    ++type_batch_n[{labels[i], batches[i]}];
  }
  for (int64_t i = 0; i < n; ++i) {
    std::map<int, int> votes;
    int same = 0;
    for (int64_t j : knn[i]) {
      ++votes[labels[j]];
      same += labels[j] == labels[i];
    }
    purity += double(same) / k;
    int best = -1;
    for (int64_t j : knn[i])  // nearest first among the labels with the most votes
      if (best < 0 || votes[labels[j]] > votes[best]) best = labels[j];
    right += best == labels[i];
    int other = 0;
    for (int64_t j : knn_same[i]) other += batches[j] != batches[i];
    mix_obs += double(other) / double(knn_same[i].size());
    mix_exp += double(type_n[labels[i]] - type_batch_n[{labels[i], batches[i]}]) / double(type_n[labels[i]] - 1);
    ++mixed_cells;
  }
  const KnnLabelScores scores = knn_label_scores(m.neighbors, labels);
  CHECK(scores.mean_purity == doctest::Approx(purity / n).epsilon(1e-12));
  CHECK(scores.accuracy == doctest::Approx(double(right) / n).epsilon(1e-12));
  const BatchMixing mix = batch_mixing(m.same_label, labels, batches);
  CHECK(mix.cells == mixed_cells);
  CHECK(mix.mean_observed == doctest::Approx(mix_obs / mixed_cells).epsilon(1e-12));
  CHECK(mix.mean_expected == doctest::Approx(mix_exp / mixed_cells).epsilon(1e-12));

  // Each cell's most similar cell of another type and least similar of its own.
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = -1, worst = -1;
    for (int64_t j = 0; j < n; ++j) {
      if (j == i) continue;
      if (labels[j] != labels[i] && (best < 0 || s(i, j) > s(i, best))) best = j;
      if (labels[j] == labels[i] && (worst < 0 || s(i, j) < s(i, worst))) worst = j;
    }
    CHECK(m.closest_other[i].b == best);
    CHECK(m.farthest_same[i].b == worst);
  }
  // The same bits for one and two threads (fixed row chunks, merged in order).
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  const SimilarityMeasures one = measure_similarities(z, labels, o);
  omp_set_num_threads(2);
  const SimilarityMeasures two = measure_similarities(z, labels, o);
  omp_set_num_threads(before);
  for (bool same : {true, false}) {
    CHECK(one.histogram.summary(same).mean == two.histogram.summary(same).mean);
    CHECK(one.histogram.summary(same).sd == two.histogram.summary(same).sd);
    CHECK(one.histogram.counts(same) == two.histogram.counts(same));
  }
  const auto top = extreme_pairs(m.closest_other, 3, true);
  REQUIRE(top.size() == 3);
  CHECK(top[0].s >= top[1].s);
  CHECK(top[1].s >= top[2].s);
}

TEST_CASE("encodings: randomized PCA agrees with the exact one on Kang cells") {
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad"})) return;
  ReadOptions ro;
  ro.rows = std::vector<int64_t>(400);
  for (int64_t i = 0; i < 400; ++i) (*ro.rows)[static_cast<size_t>(i)] = i * 4;
  const AnnData a = read_h5ad(cg::test::data_path("perturbation/kang_scgen_valid_lognorm.h5ad"), ro);
  const DenseMatrix x = a.X.to_dense();
  const PcaModel exact = pca_fit(x, 10), fast = pca_fit_randomized(x, 10, 7);
  for (int j = 0; j < 5; ++j) {
    CAPTURE(j);
    CHECK(fast.explained_variance[j] == doctest::Approx(exact.explained_variance[j]).epsilon(1e-3));
    CHECK(std::abs(fast.components.row(j).dot(exact.components.row(j))) > 0.999);
  }
  CHECK(fast.explained_variance_ratio[0] == doctest::Approx(exact.explained_variance_ratio[0]).epsilon(1e-3));
  CHECK(fast.mean[5] == doctest::Approx(exact.mean[5]).epsilon(1e-9));
}
