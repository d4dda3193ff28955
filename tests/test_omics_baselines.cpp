// The computations behind train_multitask's baseline rows and translation metrics: ridge
// regression on principal components and kNN regression against numpy references on the same
// Patch-seq cells (scripts/reference_baselines.py), kNN against a brute-force search, and
// AUROC / AUPRC (per ranking, per row, per column) against sklearn-style numpy values.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <tuple>

#include "omics/anndata.h"
#include "omics/error.h"
#include "omics/knn_regression.h"
#include "omics/metrics_per_cell.h"
#include "omics/pca.h"
#include "omics/ranking_metrics.h"
#include "omics/ridge_regression.h"
#include "test_paths.h"

using cg::omics::DenseMatrix;
using cg::omics::DenseMatrixD;

namespace {

// tests/reference/baselines_reference.txt: "name rows cols" then the rows.
std::map<std::string, DenseMatrixD> read_blocks() {
  std::ifstream f("tests/reference/baselines_reference.txt");
  REQUIRE_MESSAGE(f.good(),
                  "missing tests/reference/baselines_reference.txt (run /usr/bin/python3 "
                  "scripts/reference_baselines.py)");
  std::map<std::string, DenseMatrixD> out;
  std::string name;
  int64_t rows, cols;
  while (f >> name >> rows >> cols) {
    DenseMatrixD m(rows, cols);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        std::string v;
        f >> v;
        m(i, j) = std::stod(v);
      }
    out[name] = m;
  }
  return out;
}

double max_abs_diff(const DenseMatrixD& a, const DenseMatrixD& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return (a - b).cwiseAbs().maxCoeff();
}

struct PatchseqCells {
  DenseMatrix x_train, x_query, y_train;
};

// The first 100 Patch-seq neurons: RNA and Ephys, cells 0..79 train, 80..99 query.
bool load_patchseq(PatchseqCells& c) {
  if (!cg::test::have_data(
          {"crossmodal/unitednet_patchseq_RNA_TEM.h5ad", "crossmodal/unitednet_patchseq_Ephys_TEM.h5ad"}))
    return false;
  const auto rna = cg::omics::read_h5ad(cg::test::data_path("crossmodal/unitednet_patchseq_RNA_TEM.h5ad"));
  const auto eph = cg::omics::read_h5ad(cg::test::data_path("crossmodal/unitednet_patchseq_Ephys_TEM.h5ad"));
  REQUIRE(std::equal(rna.obs.index.begin(), rna.obs.index.begin() + 100, eph.obs.index.begin()));
  const DenseMatrix x = rna.dense_X(), y = eph.dense_X();
  c.x_train = x.topRows(80);
  c.x_query = x.middleRows(80, 20);
  c.y_train = y.topRows(80);
  return true;
}

}  // namespace

TEST_CASE("baseline ridge on principal components matches numpy's closed form on the same components") {
  PatchseqCells c;
  if (!load_patchseq(c)) return;
  const auto ref = read_blocks();
  const cg::omics::PcaModel pca = cg::omics::pca_fit(c.x_train, 10);
  const DenseMatrixD train = cg::omics::pca_transform(pca, c.x_train), query = cg::omics::pca_transform(pca, c.x_query);
  // The same components as numpy's SVD (sign convention included).
  CHECK(max_abs_diff(query, ref.at("pcs_query")) < 1e-6 * ref.at("pcs_query").cwiseAbs().maxCoeff());
  const cg::omics::RidgePath path(train, c.y_train);
  for (const auto& [name, k, alpha] : {std::tuple<std::string, int64_t, double>{"ridge_k10_alpha3", 10, 3.0},
                                       std::tuple<std::string, int64_t, double>{"ridge_k5_alpha0.5", 5, 0.5}}) {
    INFO(name);
    const DenseMatrixD pred = cg::omics::ridge_predict(path.fit(k, alpha), query).cast<double>();
    const DenseMatrixD& want = ref.at(name);
    // float32 outputs of double arithmetic: agreement to float precision of the values.
    CHECK(max_abs_diff(pred, want) < 1e-5 * std::max(1.0, want.cwiseAbs().maxCoeff()));
  }
  // The one-off fit agrees with the path's.
  const DenseMatrix a = cg::omics::ridge_predict(cg::omics::ridge_fit(train, c.y_train, 3.0), query);
  const DenseMatrix b = cg::omics::ridge_predict(path.fit(10, 3.0), query);
  CHECK((a - b).cwiseAbs().maxCoeff() < 1e-5f);
}

TEST_CASE("baseline ridge refuses what it cannot fit") {
  DenseMatrixD x(3, 2);
  x << 1, 2, 2, 4, 3, 6;  // rank 1 after centering
  DenseMatrix y(3, 1);
  y << 1, 2, 3;
  const cg::omics::RidgePath path(x, y);
  CHECK_THROWS_WITH_AS(path.fit(2, 0.0), doctest::Contains("singular"), cg::omics::DataError);
  CHECK_NOTHROW(path.fit(2, 0.1));
  CHECK_THROWS_AS(path.fit(3, 1.0), cg::omics::DataError);
  CHECK_THROWS_AS(path.fit(1, -1.0), cg::omics::DataError);
  CHECK_THROWS_AS(cg::omics::RidgePath(x, DenseMatrix(2, 1)), cg::omics::DataError);
}

TEST_CASE("baseline kNN regression matches numpy and a brute-force search") {
  SUBCASE("Patch-seq PCA space, k = 5 on 10 components (numpy reference)") {
    PatchseqCells c;
    if (!load_patchseq(c)) return;
    const auto ref = read_blocks();
    const cg::omics::PcaModel pca = cg::omics::pca_fit(c.x_train, 10);
    const auto nn = cg::omics::nearest_neighbors(cg::omics::pca_transform(pca, c.x_train),
                                                 cg::omics::pca_transform(pca, c.x_query), 5);
    const DenseMatrixD pred = cg::omics::knn_regress(nn, c.y_train, 5).cast<double>();
    CHECK(max_abs_diff(pred, ref.at("knn_k10_n5")) < 1e-5 * std::max(1.0, ref.at("knn_k10_n5").cwiseAbs().maxCoeff()));
  }
  SUBCASE("random points: neighbours and predictions equal a direct search for every k") {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> g;
    DenseMatrixD ref(60, 4), q(15, 4);
    for (int64_t i = 0; i < ref.size(); ++i) ref.data()[i] = g(rng);
    for (int64_t i = 0; i < q.size(); ++i) q.data()[i] = g(rng);
    DenseMatrix y(60, 3);
    for (int64_t i = 0; i < y.size(); ++i) y.data()[i] = static_cast<float>(g(rng));
    const auto nn = cg::omics::nearest_neighbors(ref, q, 20);
    for (int64_t i = 0; i < q.rows(); ++i) {
      std::vector<std::pair<double, int64_t>> d;
      for (int64_t j = 0; j < ref.rows(); ++j) d.push_back({(ref.row(j) - q.row(i)).squaredNorm(), j});
      std::sort(d.begin(), d.end());
      for (int64_t k = 0; k < 20; ++k)
        CHECK(nn[static_cast<size_t>(i)][static_cast<size_t>(k)] == d[static_cast<size_t>(k)].second);
      for (int64_t k : {1, 3, 20}) {
        Eigen::RowVectorXd want = Eigen::RowVectorXd::Zero(3);
        for (int64_t m = 0; m < k; ++m) want += y.row(d[static_cast<size_t>(m)].second).cast<double>();
        want /= static_cast<double>(k);
        const DenseMatrix got = cg::omics::knn_regress(nn, y, k);
        CHECK((got.row(i).cast<double>() - want).cwiseAbs().maxCoeff() < 1e-5);
      }
    }
    CHECK_THROWS_AS(cg::omics::nearest_neighbors(ref, q, 61), cg::omics::DataError);
  }
}

TEST_CASE("baseline metrics: AUROC and AUPRC match sklearn-style numpy values, ties included") {
  const auto ref = read_blocks();
  const DenseMatrixD& truth = ref.at("rank_truth");
  const DenseMatrixD& scores = ref.at("rank_scores");
  const DenseMatrixD& per_row = ref.at("rank_per_row_scores");
  for (int64_t i = 0; i < truth.rows(); ++i) {
    INFO("row " << i);
    std::vector<double> t(truth.row(i).data(), truth.row(i).data() + truth.cols());
    std::vector<double> s(scores.row(i).data(), scores.row(i).data() + scores.cols());
    const auto r = cg::omics::ranking_scores(t, s);
    if (std::isnan(per_row(i, 0))) {
      CHECK(std::isnan(r.auroc));
      CHECK(std::isnan(r.auprc));
    } else {
      CHECK(r.auroc == doctest::Approx(per_row(i, 0)).epsilon(1e-12));
      CHECK(r.auprc == doctest::Approx(per_row(i, 1)).epsilon(1e-12));
    }
  }
  const DenseMatrix tf = truth.cast<float>(), sf = scores.cast<float>();
  const auto rows = cg::omics::mean_ranking_per_row(tf, sf);
  CHECK(rows.auroc == doctest::Approx(ref.at("rank_row_means")(0, 0)).epsilon(1e-6));
  CHECK(rows.auprc == doctest::Approx(ref.at("rank_row_means")(0, 1)).epsilon(1e-6));
  CHECK(rows.counted == static_cast<int64_t>(ref.at("rank_row_means")(0, 2)));
  const auto cols = cg::omics::mean_ranking_per_column(tf, sf);
  CHECK(cols.auroc == doctest::Approx(ref.at("rank_column_means")(0, 0)).epsilon(1e-6));
  CHECK(cols.auprc == doctest::Approx(ref.at("rank_column_means")(0, 1)).epsilon(1e-6));
  CHECK(cols.counted == static_cast<int64_t>(ref.at("rank_column_means")(0, 2)));
  // A perfect ranking scores 1 and 1; a constant one 0.5 and the prevalence.
  const auto perfect = cg::omics::ranking_scores({0, 1, 0, 1}, {0.1, 0.9, 0.2, 0.8});
  CHECK(perfect.auroc == 1.0);
  CHECK(perfect.auprc == 1.0);
  const auto flat = cg::omics::ranking_scores({0, 1, 0, 0}, {0.3, 0.3, 0.3, 0.3});
  CHECK(flat.auroc == 0.5);
  CHECK(flat.auprc == 0.25);
}

TEST_CASE("baseline metrics: per-cell R^2 and Pearson average each cell's profile") {
  DenseMatrix t(3, 4), p(3, 4);
  t << 1, 2, 3, 4, /**/ 0, 0, 0, 0, /**/ 2, 0, 2, 0;
  p << 1, 2, 3, 5, /**/ 1, 1, 1, 1, /**/ 1, 1, 1, 1;
  // Row 0: SS_res 1, SS_tot 5 -> 0.8; row 1 constant truth: skipped; row 2: SS_res 4, SS_tot 4 -> 0.
  CHECK(cg::omics::mean_row_r2(t, p) == doctest::Approx(0.4));
  // Row 0: pearson of (1,2,3,4) and (1,2,3,5); rows 1 and 2 are skipped (constant).
  const double r0 = cg::omics::mean_row_pearson(t.topRows(1), p.topRows(1));
  CHECK(cg::omics::mean_row_pearson(t, p) == doctest::Approx(r0));
  CHECK(r0 == doctest::Approx(0.9827076298239908));
}
