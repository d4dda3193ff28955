// Evaluation metrics against numpy/scipy references on Kang, pbmc68k and ECCITE
// (scripts/reference_omics.py), plus hand-made cases with known answers.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "omics/anndata.h"
#include "omics/error.h"
#include "omics/filter.h"
#include "omics/metrics.h"
#include "omics/rng.h"
#include "omics/special_functions.h"
#include "tests/omics_reference_io.h"
#include "tests/test_paths.h"

using namespace cg::omics;
using cg::test::close;

namespace {

struct Kang {
  CsrMatrix x;
  std::vector<std::string> type, cond;
  DenseMatrix rows(const std::string& t, const std::string& c) const {
    std::vector<int64_t> idx;
    for (size_t i = 0; i < type.size(); ++i)
      if (type[i] == t && cond[i] == c) idx.push_back(static_cast<int64_t>(i));
    return csr_select_rows(x, idx).to_dense();
  }
};
const Kang& kang() {
  static const Kang k = [] {
    const auto a = read_h5ad(cg::test::data_path("perturbation/kang_scgen_valid_lognorm.h5ad"));
    return Kang{a.X.csr, a.obs.columns.at("cell_type").labels(), a.obs.columns.at("condition").labels()};
  }();
  return k;
}
const std::map<std::string, double>& kref() {
  static const auto m = cg::test::read_scalars("kang_scalars.tsv");
  return m;
}

void check_degs(const DegResult& r, const std::string& name) {
  CHECK(r.top(100) == cg::test::read_ints("kang_cd4t_" + name + "_top100.txt"));
  for (const auto& row : cg::test::read_table("kang_cd4t_" + name + "_genes.tsv")) {
    const auto g = static_cast<size_t>(row[0]);
    CAPTURE(g);
    CHECK(close(r.scores[g], row[1], 1e-5, 1e-9));
    CHECK(close(r.pvals[g], row[2], 1e-5, 1e-300));
    CHECK(close(r.pvals_adj[g], row[3], 1e-5, 1e-300));
    CHECK(close(r.logfoldchanges[g], row[4], 1e-5, 1e-9));
  }
}

}  // namespace

TEST_CASE("Wilcoxon DEGs of CD4T stimulated vs control match scanpy's definition") {
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad"})) return;
  const auto stim = kang().rows("CD4T", "stimulated"), ctrl = kang().rows("CD4T", "control");
  REQUIRE(stim.rows() == 356);
  check_degs(rank_genes_groups(stim, ctrl), "wilcoxon");
  check_degs(rank_genes_groups(stim, ctrl, {DegMethod::wilcoxon, true}), "wilcoxon_tie");
}

TEST_CASE("Welch t-test DEGs of CD4T stimulated vs control") {
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad"})) return;
  const auto stim = kang().rows("CD4T", "stimulated"), ctrl = kang().rows("CD4T", "control");
  check_degs(rank_genes_groups(stim, ctrl, {DegMethod::t_test}), "ttest");
}

TEST_CASE("R^2 of means, Pearson of deltas and r2_score on Kang") {
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad"})) return;
  const auto stim = kang().rows("CD4T", "stimulated"), ctrl = kang().rows("CD4T", "control");
  const auto bstim = kang().rows("B", "stimulated");
  const auto& ref = kref();
  CHECK(close(r2_of_means(ctrl, stim), ref.at("r2_means_stim_ctrl_all")));
  const auto top = cg::test::read_ints("kang_cd4t_wilcoxon_top100.txt");
  CHECK(close(r2_of_means(ctrl, stim, top), ref.at("r2_means_stim_ctrl_top100")));
  CHECK(close(r2_of_means(bstim, stim), ref.at("r2_means_bstim_stim_all")));
  CHECK(close(pearson_of_deltas(bstim, stim, ctrl), ref.at("pearson_delta_bstim_stim_ctrl")));
  CHECK(close(r2_score(stim.topRows(60), ctrl.topRows(60)), ref.at("r2_score_ctrl60_stim60")));
  CHECK(r2_of_means(stim, stim) == doctest::Approx(1.0));
  CHECK(r2_score(stim, stim) == 1.0);
}

TEST_CASE("r2_score follows sklearn for constant true features") {
  DenseMatrix t(3, 3), p(3, 3);
  t << 1, 2, 5, 2, 2, 5, 3, 2, 5;
  p << 1, 2, 5, 2, 3, 5, 4, 2, 5;
  // col 0: SS_res 1, SS_tot 2 -> 0.5; col 1 constant but mispredicted -> 0; col 2 exact -> 1
  const auto s = r2_score_per_feature(t, p);
  CHECK(s[0] == doctest::Approx(0.5));
  CHECK(s[1] == 0.0);
  CHECK(s[2] == 1.0);
  CHECK(r2_score(t, p) == doctest::Approx(0.5));
  CHECK_THROWS_AS(r2_score(t, p.leftCols(2)), DataError);
}

TEST_CASE("PCA on Kang CD4T (Gram path) and CD8T x 100 genes (covariance path)") {
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad"})) return;
  const auto stim = kang().rows("CD4T", "stimulated"), ctrl = kang().rows("CD4T", "control");
  DenseMatrix both(ctrl.rows() + stim.rows(), ctrl.cols());
  both << ctrl, stim;
  const auto& ref = kref();
  const auto m = pca_fit(both, 30);
  for (int j = 0; j < 30; ++j) {
    CHECK(close(m.explained_variance[j], ref.at("pca_cd4t_ev_" + std::to_string(j))));
    CHECK(close(m.explained_variance_ratio[j], ref.at("pca_cd4t_evr_" + std::to_string(j))));
  }
  const auto zs = pca_transform(m, stim), zc = pca_transform(m, ctrl);
  for (int j = 0; j < 5; ++j) CHECK(close(zs(0, j), ref.at("pca_cd4t_score_stim0_" + std::to_string(j)), 1e-5, 1e-7));
  // Components are orthonormal.
  const Eigen::MatrixXd gram = m.components * m.components.transpose();
  CHECK((gram - Eigen::MatrixXd::Identity(30, 30)).cwiseAbs().maxCoeff() < 1e-9);

  // Distances in that PCA space.
  const auto zb = pca_transform(m, kang().rows("B", "stimulated"));
  CHECK(close(e_distance(zs, zc), ref.at("edist_stim_ctrl")));
  CHECK(close(e_distance(zs, zc, true), ref.at("edist_sq_stim_ctrl")));
  CHECK(close(mmd_linear(zs, zc), ref.at("mmd_linear_stim_ctrl")));
  CHECK(close(e_distance(zs, zc, true), 2 * mmd_linear(zs, zc), 1e-9));
  CHECK(close(mmd_rbf(zs, zc, 0.01), ref.at("mmd_rbf_stim_ctrl_g0.01")));
  const GroupDistance ed = [](const DenseMatrixD& a, const DenseMatrixD& b) { return e_distance(a, b); };
  CHECK(close(distance_ratio(ed, zs, zb, zc), ref.at("edist_ratio_real_stim_pred_b_ctrl")));
  CHECK(e_distance(zs, zs) == doctest::Approx(0.0).epsilon(1e-12));
  CHECK(mmd_rbf(zs, zs, 0.5) == doctest::Approx(0.0).epsilon(1e-12));

  std::vector<int64_t> cd8;
  for (size_t i = 0; i < kang().type.size(); ++i)
    if (kang().type[i] == "CD8T") cd8.push_back(static_cast<int64_t>(i));
  std::vector<int64_t> first100(100);
  std::iota(first100.begin(), first100.end(), 0);
  const DenseMatrix small = csr_select_cols(csr_select_rows(kang().x, cd8), first100).to_dense();
  const auto m8 = pca_fit(small, 10);
  for (int j = 0; j < 10; ++j) {
    CHECK(close(m8.explained_variance[j], ref.at("pca_cd8t100_ev_" + std::to_string(j))));
    CHECK(close(m8.explained_variance_ratio[j], ref.at("pca_cd8t100_evr_" + std::to_string(j))));
  }
  CHECK_THROWS_AS(pca_fit(small, 101), DataError);
}

TEST_CASE("PCA sign convention and rank check") {
  DenseMatrix x(4, 2);
  x << -2, 0, -1, 0, 1, 0, 2, 0;
  const auto m = pca_fit(x, 1);
  CHECK(m.components(0, 0) == doctest::Approx(1.0));
  CHECK(m.explained_variance_ratio[0] == doctest::Approx(1.0));
  CHECK_THROWS_WITH_AS(pca_fit(x, 2), doctest::Contains("rank"), DataError);
}

TEST_CASE("E-distance and MMD on a hand case") {
  DenseMatrixD a(2, 1), b(1, 1);
  a << 0, 2;
  b << 1;
  // E||x-y|| = 1, E||x-x'|| = (0 + 2 + 2 + 0) / 4 = 1, E||y-y'|| = 0 -> 2 - 1 - 0 = 1
  CHECK(e_distance(a, b) == doctest::Approx(1.0));
  CHECK(mmd_linear(a, b) == doctest::Approx(0.0));
  const double g = 0.5;
  const double want = (2 + 2 * std::exp(-g * 4)) / 4 + 1 - 2 * std::exp(-g * 1);
  CHECK(mmd_rbf(a, b, g) == doctest::Approx(want));
  CHECK_THROWS_AS(e_distance(a, DenseMatrixD(0, 1)), DataError);
}

TEST_CASE("bootstrap is seeded and summarizes resampled metrics") {
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad"})) return;
  const auto stim = kang().rows("CD4T", "stimulated");
  const auto ctrl = kang().rows("CD4T", "control");
  auto metric = [&](const std::vector<int64_t>& ia, const std::vector<int64_t>& ib) {
    std::vector<int64_t> a(ia), b(ib);
    DenseMatrix sa(a.size(), stim.cols()), sb(b.size(), ctrl.cols());
    for (size_t i = 0; i < a.size(); ++i) sa.row(i) = stim.row(a[i]);
    for (size_t i = 0; i < b.size(); ++i) sb.row(i) = ctrl.row(b[i]);
    return r2_of_means(sa, sb);
  };
  BootstrapOptions o;
  o.seed = 11;
  const auto s = bootstrap_pair(stim.rows(), ctrl.rows(), metric, o);
  CHECK(s.values.size() == 100);
  CHECK(s.std > 0);
  CHECK(std::abs(s.mean - kref().at("r2_means_stim_ctrl_all")) < 5 * s.std + 0.01);
  CHECK(bootstrap_pair(stim.rows(), ctrl.rows(), metric, o).values == s.values);
  // Sample size and range of the indices.
  const auto t = bootstrap(10, [](const std::vector<int64_t>& idx) {
    CHECK(idx.size() == 8);
    for (int64_t i : idx) CHECK((i >= 0 && i < 10));
    return double(idx[0]);
  });
  CHECK(t.values.size() == 100);
  // Mean and population std of a known metric: constant -> std 0.
  CHECK(bootstrap(5, [](const std::vector<int64_t>&) { return 2.0; }).std == 0.0);
}

TEST_CASE("classification metrics on hand cases") {
  const std::vector<int64_t> truth{0, 0, 1, 1, 2, 2};
  const std::vector<int64_t> permuted{5, 5, 9, 9, 7, 7};
  CHECK(accuracy(truth, truth) == 1.0);
  CHECK(accuracy(truth, permuted) == 0.0);
  CHECK(hungarian_accuracy(truth, permuted) == 1.0);
  CHECK(adjusted_rand_index(truth, permuted) == doctest::Approx(1.0));
  CHECK(normalized_mutual_info(truth, permuted) == doctest::Approx(1.0));
  CHECK(normalized_mutual_info(truth, truth) == doctest::Approx(1.0));
  CHECK(macro_f1(truth, truth) == 1.0);
  // 2x2 contingency [[1, 1], [1, 1]]: sklearn adjusted_rand_score([0,0,1,1],[0,1,0,1]) = -0.5
  CHECK(adjusted_rand_index({0, 0, 1, 1}, {0, 1, 0, 1}) == doctest::Approx(-0.5));
  // sklearn docs: adjusted_rand_score([0, 0, 1, 1], [0, 0, 1, 2]) = 0.5714...
  CHECK(adjusted_rand_index({0, 0, 1, 1}, {0, 0, 1, 2}) == doctest::Approx(4.0 / 7.0));
  CHECK(adjusted_rand_index({0, 0, 0, 0}, {0, 1, 2, 3}) == doctest::Approx(0.0));
  CHECK(normalized_mutual_info({0, 0, 1, 1}, {0, 1, 0, 1}) == 0.0);
  CHECK(normalized_mutual_info({3, 3, 3}, {1, 1, 1}) == 1.0);
  // Macro F1: label 0: tp 1, fp 0, fn 1 -> 2/3; label 1: tp 1, fp 1, fn 0 -> 2/3; label 2 only
  // predicted: 0 -> mean 4/9.
  CHECK(macro_f1({0, 0, 1}, {0, 1, 1}) == doctest::Approx(2.0 / 3.0));
  CHECK(macro_f1({0, 0, 1}, {0, 2, 1}) == doctest::Approx((2.0 / 3.0 + 1.0 + 0.0) / 3.0));
  // More clusters than labels: the extra cluster counts as wrong.
  CHECK(hungarian_accuracy({0, 0, 1, 1}, {0, 0, 1, 2}) == doctest::Approx(0.75));
  CHECK_THROWS_AS(accuracy({0, 1}, {0}), DataError);
}

TEST_CASE("per-class report: confusion matrix and sklearn's precision/recall/F1 with zero_division=0") {
  // truth 0 0 1 1 2, predicted 0 1 1 1 0 over 4 classes (class 3 in neither).
  const ClassReport r = class_report({0, 0, 1, 1, 2}, {0, 1, 1, 1, 0}, 4);
  const std::vector<std::vector<int64_t>> expected{{1, 1, 0, 0}, {0, 2, 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 0}};
  REQUIRE(r.confusion.size() == expected.size());
  for (size_t t = 0; t < expected.size(); ++t) {
    INFO("true class " << t);
    CHECK(r.confusion[t] == expected[t]);
  }
  CHECK(r.support == std::vector<int64_t>{2, 2, 1, 0});
  // class 0: tp 1 of 2 predicted, 2 true; class 1: tp 2 of 3 predicted, 2 true; class 2: never
  // predicted (precision 0 by zero_division); class 3: absent from both (all 0).
  CHECK(r.precision[0] == doctest::Approx(0.5));
  CHECK(r.recall[0] == doctest::Approx(0.5));
  CHECK(r.f1[0] == doctest::Approx(0.5));
  CHECK(r.precision[1] == doctest::Approx(2.0 / 3.0));
  CHECK(r.recall[1] == doctest::Approx(1.0));
  CHECK(r.f1[1] == doctest::Approx(0.8));
  CHECK(r.precision[2] == 0.0);
  CHECK(r.recall[2] == 0.0);
  CHECK(r.f1[2] == 0.0);
  CHECK(r.f1[3] == 0.0);
  // The classes present in truth or prediction give macro_f1's mean.
  CHECK((r.f1[0] + r.f1[1] + r.f1[2]) / 3.0 == doctest::Approx(macro_f1({0, 0, 1, 1, 2}, {0, 1, 1, 1, 0})));
  CHECK_THROWS_AS(class_report({0, 1}, {0}, 2), DataError);
  CHECK_THROWS_WITH_AS(class_report({0, 4}, {0, 1}, 3), doctest::Contains("expected 0..2"), DataError);
}

TEST_CASE("Hungarian algorithm finds the optimal assignment") {
  DenseMatrixD c(3, 3);
  c << 4, 1, 3, 2, 0, 5, 3, 2, 2;
  const auto a = hungarian_min_cost(c);
  double cost = 0;
  for (int i = 0; i < 3; ++i) cost += c(i, a[i]);
  CHECK(cost == 5.0);  // (0,1) + (1,0) + (2,2) = 1 + 2 + 2
  // Brute force on a random 5x7 matrix.
  SplitMix64 r(5);
  DenseMatrixD m(5, 7);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = double(r.below(100));
  const auto b = hungarian_min_cost(m);
  double got = 0;
  std::set<int64_t> used;
  for (int i = 0; i < 5; ++i) got += m(i, b[i]), used.insert(b[i]);
  CHECK(used.size() == 5);
  std::vector<int> cols{0, 1, 2, 3, 4, 5, 6};
  double best = 1e18;
  do {
    double s = 0;
    for (int i = 0; i < 5; ++i) s += m(i, cols[i]);
    best = std::min(best, s);
  } while (std::next_permutation(cols.begin(), cols.end()));
  CHECK(got == best);
  const auto t = hungarian_min_cost(m.transpose());  // 7 rows x 5 cols
  int unassigned = 0;
  for (auto v : t) unassigned += v < 0;
  CHECK(unassigned == 2);
}

TEST_CASE("clustering agreement on pbmc68k (bulk_labels vs louvain) matches sklearn definitions") {
  if (!cg::test::have_data({"classification/scanpy_pbmc68k_reduced.h5ad"})) return;
  const auto a = read_h5ad(cg::test::data_path("classification/scanpy_pbmc68k_reduced.h5ad"));
  const auto truth = encode_labels(a.obs.columns.at("bulk_labels").labels());
  const auto lou = encode_labels(a.obs.columns.at("louvain").labels());
  const auto ref = cg::test::read_scalars("misc_scalars.tsv");
  CHECK(close(adjusted_rand_index(truth.codes, lou.codes), ref.at("ari_bulk_louvain")));
  CHECK(close(normalized_mutual_info(truth.codes, lou.codes), ref.at("nmi_bulk_louvain")));
  CHECK(close(hungarian_accuracy(truth.codes, lou.codes), ref.at("hungarian_acc_bulk_louvain")));
  const auto pred = cg::test::read_ints("pbmc68k_majority_pred.txt");
  CHECK(close(macro_f1(truth.codes, pred), ref.at("macro_f1_majority")));
  CHECK(close(accuracy(truth.codes, pred), ref.at("accuracy_majority")));
}

TEST_CASE("rank-value encoding of ECCITE cells matches numpy") {
  if (!cg::test::have_data({"crossmodal/eccite_citefuse_rna.h5ad"})) return;
  const auto a = read_h5ad(cg::test::data_path("crossmodal/eccite_citefuse_rna.h5ad"));
  const auto med = gene_nonzero_medians(a.X.csr);
  const auto ref = cg::test::read_scalars("misc_scalars.tsv");
  CHECK(close(std::accumulate(med.begin(), med.end(), 0.0), ref.at("eccite_median_sum")));
  const auto enc = rank_value_encode(a.X.csr, med, 50);
  const auto want = cg::test::read_int_lines("eccite_rank_encoding_first10.txt");
  for (size_t i = 0; i < 10; ++i) CHECK(enc[i] == want[i]);
  CHECK_THROWS_AS(rank_value_encode(a.X.csr, {1.0}, 10), DataError);
}

TEST_CASE("Spearman: reversed order is -1, ties use average ranks, Kang cells match scipy") {
  CHECK(spearman({1, 2, 3, 4}, {4, 3, 2, 1}) == doctest::Approx(-1.0));
  CHECK(spearman({1, 2, 3, 4}, {10, 20, 30, 400}) == doctest::Approx(1.0));
  CHECK(average_ranks({5, 1, 5, 3}) == std::vector<double>{3.5, 1, 3.5, 2});
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad"})) return;
  const DenseMatrix five = csr_select_rows(kang().x, {0, 1, 2, 3, 4}).to_dense();
  const auto rho = spearman_rows(five);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j)
      CHECK(close(rho(i, j), kref().at("spearman_kang_" + std::to_string(i) + "_" + std::to_string(j))));
}

TEST_CASE("distribution tails") {
  CHECK(normal_sf(0) == doctest::Approx(0.5));
  CHECK(normal_sf(1.959963984540054) == doctest::Approx(0.025).epsilon(1e-10));
  // scipy: 2 * t.sf(2.0, 5) = 0.10193947882985828
  CHECK(close(student_t_two_sided_p(2.0, 5.0), 0.10193947882985828, 1e-12));
  CHECK(student_t_two_sided_p(0.0, 3.0) == doctest::Approx(1.0));
  CHECK(std::isnan(student_t_two_sided_p(NAN, 3.0)));
}

TEST_CASE("DEG helpers: BH adjustment and common top-k") {
  const auto adj = benjamini_hochberg({0.01, 0.04, 0.03, 0.2});
  // sorted 0.01 0.03 0.04 0.2 -> 0.04 0.06 0.0533 0.2 -> cummin from the end: 0.04 .0533 .0533 .2
  CHECK(adj[0] == doctest::Approx(0.04));
  CHECK(adj[2] == doctest::Approx(0.16 / 3));
  CHECK(adj[1] == doctest::Approx(0.16 / 3));
  CHECK(adj[3] == doctest::Approx(0.2));
  CHECK(common_top_k({1, 2, 3, 4}, {4, 3, 9, 1}, 2) == 0);
  CHECK(common_top_k({1, 2, 3, 4}, {4, 3, 9, 1}, 4) == 3);
  CHECK_THROWS_AS(rank_genes_groups(DenseMatrix::Zero(1, 3), DenseMatrix::Zero(4, 3)), DataError);
}
