// Preprocessing against numpy references on the shared data (scripts/reference_omics.py)
// plus hand-made cases with known answers and the bad-input errors.
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>
#include <set>

#include "omics/anndata.h"
#include "omics/error.h"
#include "omics/preprocess.h"
#include "tests/omics_reference_io.h"
#include "tests/test_paths.h"

using namespace cg::omics;
using cg::test::close;

namespace {

CsrMatrix csr(std::initializer_list<std::initializer_list<float>> rows) {
  DenseMatrix d(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows.begin()->size()));
  Eigen::Index r = 0;
  for (auto& row : rows) {
    Eigen::Index c = 0;
    for (float v : row) d(r, c++) = v;
    ++r;
  }
  return CsrMatrix::from_dense(d);
}

const CsrMatrix& scicar_counts() {
  static const CsrMatrix m = [] {
    auto a = read_h5ad(cg::test::data_path("crossmodal/scicar_a549_dex_rna.h5ad"));
    return a.layers.at("counts_recovered").csr;
  }();
  return m;
}

}  // namespace

TEST_CASE("normalize_total scales each cell to the target; zero cells stay zero") {
  auto x = csr({{1, 3, 0}, {0, 0, 0}, {2, 2, 4}});
  const auto totals = normalize_total(x, 100.0);
  CHECK(totals == std::vector<double>{4, 0, 8});
  const DenseMatrix d = x.to_dense();
  CHECK(d(0, 0) == doctest::Approx(25));
  CHECK(d(0, 1) == doctest::Approx(75));
  CHECK(d.row(1).sum() == 0);
  CHECK(d(2, 2) == doctest::Approx(50));
  // Default target: the median of the nonzero totals (4 and 8 -> 6).
  auto y = csr({{1, 3, 0}, {0, 0, 0}, {2, 2, 4}});
  normalize_total(y);
  CHECK(y.to_dense().row(2).sum() == doctest::Approx(6));
}

TEST_CASE("log1p and scale on a hand case") {
  auto x = csr({{0, std::exp(1.0f) - 1.0f}, {3, 0}});
  log1p_inplace(x);
  CHECK(x.to_dense()(0, 1) == doctest::Approx(1.0));
  CHECK(x.to_dense()(1, 0) == doctest::Approx(std::log(4.0)));
  DenseMatrix d(3, 2);
  d << 1, 5, 2, 5, 3, 5;
  const auto s = scale(d);
  CHECK(s.x(0, 0) == doctest::Approx(-1.0));  // mean 2, sd (ddof 1) 1
  CHECK(s.x(2, 0) == doctest::Approx(1.0));
  CHECK(s.x(1, 1) == 0.0f);  // constant gene: sd replaced by 1, centered to 0
  CHECK(s.std[1] == 1.0);
  const auto c = scale(d, {true, 0.5});
  CHECK(c.x(0, 0) == doctest::Approx(-0.5));
  CHECK(c.x(2, 0) == doctest::Approx(0.5));
}

TEST_CASE("filters, normalize_total, log1p and scale match numpy on sci-CAR counts") {
  if (!cg::test::have_data({"crossmodal/scicar_a549_dex_rna.h5ad"})) return;
  const auto ref = cg::test::read_scalars("scicar_scalars.tsv");
  const auto& counts = scicar_counts();
  const auto cells = filter_cells(counts, {500, INFINITY, 200});
  CHECK(double(cells.size()) == ref.at("filter_cells_n"));
  CHECK(double(std::accumulate(cells.begin(), cells.end(), int64_t{0})) == ref.at("filter_cells_idxsum"));
  GeneFilter gf;
  gf.min_cells = 300;
  gf.min_counts = 400;
  const auto genes = filter_genes(counts, gf);
  CHECK(double(genes.size()) == ref.at("filter_genes_n"));
  CHECK(double(std::accumulate(genes.begin(), genes.end(), int64_t{0})) == ref.at("filter_genes_idxsum"));

  auto all = counts;
  normalize_total(all);  // default target = median of nonzero totals
  double s0 = 0;
  for (int64_t p = all.indptr[0]; p < all.indptr[1]; ++p) s0 += all.data[p];
  CHECK(close(s0, ref.at("normalized_default_cell0_sum"), 1e-5));

  auto x = counts;
  normalize_total(x, 1e6);
  log1p_inplace(x);
  const DenseMatrix d = x.to_dense();
  for (int i = 0; i < 5; ++i)
    CHECK(close(d.row(i).cast<double>().sum(), ref.at("log1p_cpm_cell" + std::to_string(i) + "_sum")));
  const auto z = scale(x);
  CHECK(close(z.x.cast<double>().cwiseAbs().sum(), ref.at("scale_abs_sum")));
  const auto zc = scale(x, {true, 3.0});
  CHECK(close(zc.x.cast<double>().sum(), ref.at("scale_clip3_sum")));
  CHECK(zc.x.maxCoeff() == doctest::Approx(ref.at("scale_clip3_max")));
  CHECK(zc.x.minCoeff() >= -3.0f);
}

TEST_CASE("HVG seurat flavor on Kang log data matches the numpy reference") {
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad"})) return;
  const auto a = read_h5ad(cg::test::data_path("perturbation/kang_scgen_valid_lognorm.h5ad"));
  SeuratHvgOptions opt;
  opt.n_top_genes = 2000;
  const auto r = highly_variable_genes_seurat(a.X.csr, opt);
  for (const auto& row : cg::test::read_table("kang_hvg_seurat_genes.tsv")) {
    const auto g = static_cast<size_t>(row[0]);
    CHECK(close(r.means[g], row[1]));
    CHECK(close(r.dispersions[g], row[2]));
    CHECK(close(r.normalized[g], row[3]));
  }
  const auto want = cg::test::read_ints("kang_hvg_seurat_top2000.txt");
  std::vector<int64_t> got;
  for (size_t g = 0; g < r.highly_variable.size(); ++g)
    if (r.highly_variable[g]) got.push_back(static_cast<int64_t>(g));
  CHECK(got == want);
  CHECK(r.ranked.size() == want.size());
  for (size_t i = 1; i < r.ranked.size(); ++i) CHECK(r.normalized[r.ranked[i - 1]] >= r.normalized[r.ranked[i]]);
}

TEST_CASE("HVG seurat: a single-gene bin gets normalized dispersion 1") {
  // Gene 2 has a far larger mean than the others, so it sits alone in the top bin.
  DenseMatrix d(4, 3);
  d << 0.1f, 0.2f, 5.0f, 0.3f, 0.1f, 6.0f, 0.2f, 0.4f, 5.5f, 0.4f, 0.3f, 4.0f;
  SeuratHvgOptions opt;
  opt.n_top_genes = 1;
  const auto r = highly_variable_genes_seurat(CsrMatrix::from_dense(d), opt);
  CHECK(r.normalized[2] == doctest::Approx(1.0));
}

TEST_CASE("loess reproduces a quadratic exactly and smooths noise") {
  std::vector<double> x, y;
  for (int i = 0; i < 200; ++i) {
    x.push_back(i * 0.05);
    y.push_back(1.0 - 2.0 * x.back() + 0.5 * x.back() * x.back());
  }
  const auto f = loess_fit(x, y, 0.3, 2);
  for (size_t i = 0; i < x.size(); ++i) CHECK(f[i] == doctest::Approx(y[i]).epsilon(1e-9));
  CHECK_THROWS_AS(loess_fit({1, 2}, {1, 2}, 0.3, 2), DataError);
}

TEST_CASE("HVG seurat_v3 on sci-CAR counts matches the numpy (direct loess) reference") {
  if (!cg::test::have_data({"crossmodal/scicar_a549_dex_rna.h5ad"})) return;
  const auto r = highly_variable_genes_seurat_v3(scicar_counts(), 300);
  for (const auto& row : cg::test::read_table("scicar_hvg_v3_genes.tsv")) {
    const auto g = static_cast<size_t>(row[0]);
    CHECK(close(r.means[g], row[1]));
    CHECK(close(r.dispersions[g], row[2]));
    CHECK(close(r.normalized[g], row[3]));
  }
  CHECK(r.ranked == cg::test::read_ints("scicar_hvg_v3_top300.txt"));
}

TEST_CASE("ATAC binarize + TF-IDF and ADT CLR match numpy") {
  if (!cg::test::have_data({"crossmodal/scicar_a549_dex_atac.h5ad", "crossmodal/eccite_citefuse_adt.h5ad"})) return;
  const auto ref = cg::test::read_scalars("misc_scalars.tsv");
  const auto atac = read_h5ad(cg::test::data_path("crossmodal/scicar_a549_dex_atac.h5ad"));
  const auto b = binarize(atac.X.csr, "atac X");
  CHECK(double(b.nnz()) == ref.at("binary_nnz"));
  const auto t = tfidf(b);
  double total = 0;
  for (float v : t.data) total += v;
  CHECK(close(total, ref.at("tfidf_total")));
  for (int i = 0; i < 5; ++i) {
    double s = 0;
    for (int64_t p = t.indptr[i]; p < t.indptr[i + 1]; ++p) s += t.data[p];
    CHECK(close(s, ref.at("tfidf_cell" + std::to_string(i) + "_sum")));
  }
  const auto adt = read_h5ad(cg::test::data_path("crossmodal/eccite_citefuse_adt.h5ad"));
  const DenseMatrix clr = clr_per_cell(adt.X.to_dense(), "adt X");
  CHECK(close(clr.cast<double>().sum(), ref.at("clr_total")));
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      CHECK(close(clr(i, j), ref.at("clr_" + std::to_string(i) + "_" + std::to_string(j)), 1e-5, 1e-7));
  // The sparse path gives the same values.
  const DenseMatrix clr_sparse = clr_per_cell(adt.X.sparse ? adt.X.csr : CsrMatrix::from_dense(adt.X.dense)).to_dense();
  CHECK((clr_sparse - clr).cwiseAbs().maxCoeff() < 1e-6f);
}

TEST_CASE("TF-IDF hand case: Signac variant via switches") {
  const auto x = csr({{1, 1, 0}, {0, 1, 1}});
  const auto t = tfidf(x, {1.0, false, true, false}).to_dense();
  // tf = 1/2, idf(col 0) = log1p(2 / 1), idf(col 1) = log1p(2 / 2)
  CHECK(t(0, 0) == doctest::Approx(0.5 * std::log1p(2.0)));
  CHECK(t(0, 1) == doctest::Approx(0.5 * std::log1p(1.0)));
  CHECK(t(0, 2) == 0.0f);
  const auto s = tfidf(x, {1e4, false, false, true}).to_dense();
  CHECK(s(1, 2) == doctest::Approx(std::log1p(0.5 * 1e4 * 2.0)));
}

TEST_CASE("counts-only steps reject NaN and negative values, naming the matrix") {
  auto neg = csr({{1, -2}, {0, 3}});
  CHECK_THROWS_WITH_AS(normalize_total(neg, 1e4, "layers/counts"), doctest::Contains("'layers/counts'"), DataError);
  CHECK_THROWS_WITH_AS(highly_variable_genes_seurat_v3(neg, 1, 0.3, "raw X"), doctest::Contains("negative"), DataError);
  auto nan = csr({{1, 2}, {0, 3}});
  nan.data[0] = NAN;
  CHECK_THROWS_WITH_AS(tfidf(nan, {}, "atac"), doctest::Contains("not finite"), DataError);
  CHECK_THROWS_AS(clr_per_cell(nan, "adt"), DataError);
  CHECK_THROWS_AS(filter_cells(nan, {}, "X"), DataError);
  CHECK_THROWS_AS(binarize(nan, "atac"), DataError);
  CHECK_THROWS_WITH_AS(require_counts(csr({{1.5f}}), "X", true), doctest::Contains("not an integer"), DataError);
  CHECK_NOTHROW(require_counts(csr({{1.0f, 0.0f}}), "X", true));
}

TEST_CASE("row and column selection keep order and allow repeats") {
  const auto x = csr({{1, 0, 2}, {0, 3, 0}});
  const DenseMatrix r = csr_select_rows(x, {1, 1, 0}).to_dense();
  CHECK(r.rows() == 3);
  CHECK(r(0, 1) == 3.0f);
  CHECK(r(2, 2) == 2.0f);
  const DenseMatrix c = csr_select_cols(x, {2, 0}).to_dense();
  CHECK(c(0, 0) == 2.0f);
  CHECK(c(0, 1) == 1.0f);
  CHECK_THROWS_AS(csr_select_cols(x, {3}), DataError);
}
