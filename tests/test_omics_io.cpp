// Reading the shared real .h5ad / 10x files, checked against facts from Python
// (scripts/reference_io.py -> tests/reference/h5ad_facts.tsv) and against the numbers the data
// manifest states; writing them back and reading the result with our reader and with anndata.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "omics/anndata.h"
#include "tests/test_omics_io_util.h"
#include "tests/test_paths.h"

using namespace cg::omics;
using cg::test::contains;
using cg::test::data_path;

namespace {

const std::vector<std::string> kH5ad = {
    "perturbation/kang_scgen_valid_lognorm.h5ad",   "crossmodal/eccite_citefuse_rna.h5ad",
    "crossmodal/eccite_citefuse_adt.h5ad",          "crossmodal/unitednet_patchseq_RNA_TEM.h5ad",
    "crossmodal/unitednet_patchseq_Ephys_TEM.h5ad", "crossmodal/unitednet_patchseq_Morph_TEM.h5ad",
    "crossmodal/scicar_a549_dex_rna.h5ad",          "crossmodal/scicar_a549_dex_atac.h5ad",
    "classification/scanpy_pbmc68k_reduced.h5ad",
};

float value_at(const Matrix& m, int64_t r, int64_t c) {
  if (!m.sparse) return m.dense(r, c);
  for (int64_t k = m.csr.indptr[r]; k < m.csr.indptr[r + 1]; ++k)
    if (m.csr.indices[k] == c) return m.csr.data[k];
  return 0.0f;
}

double sum_of(const Matrix& m) {
  double s = 0;
  if (m.sparse)
    for (float v : m.csr.data) s += v;
  else
    for (Eigen::Index i = 0; i < m.dense.size(); ++i) s += m.dense.data()[i];
  return s;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, sep)) out.push_back(part);
  return out;
}

std::map<std::string, int64_t> value_counts(const std::vector<std::string>& labels) {
  std::map<std::string, int64_t> c;
  for (auto& l : labels) ++c[l];
  return c;
}

// Checks one line of h5ad_facts.tsv against the loaded data.
void check_fact(const AnnData& a, const std::string& fact, const std::string& value) {
  INFO(fact << " expected " << value);
  auto f = split(fact, ':');
  const std::string& kind = f[0];
  if (kind == "shape") {
    CHECK(std::to_string(a.n_obs()) + " " + std::to_string(a.n_vars()) == value);
  } else if (kind == "nnz") {
    REQUIRE(a.X.sparse);
    CHECK(a.X.csr.nnz() == std::stoll(value));
  } else if (kind == "x_sum") {
    CHECK(sum_of(a.X) == doctest::Approx(std::stod(value)).epsilon(1e-9));
  } else if (kind == "x_at") {
    CHECK(value_at(a.X, std::stoll(f[1]), std::stoll(f[2])) == static_cast<float>(std::stod(value)));
  } else if (kind == "obs_index" || kind == "var_index") {
    const auto& idx = kind == "obs_index" ? a.obs.index : a.var.index;
    CHECK(idx.at(std::stoul(f[1])) == value);
  } else if (kind == "obs" || kind == "var") {
    // Column names may hold ':'; the row is the last field.
    const std::string col = fact.substr(kind.size() + 1, fact.rfind(':') - kind.size() - 1);
    const auto& c = (kind == "obs" ? a.obs : a.var).column(col);
    const size_t row = std::stoul(f.back());
    if (c.type == Column::Type::Numeric) CHECK(c.numbers.at(row) == std::stod(value));
    else CHECK(c.labels().at(row) == value);
  } else if (kind == "count") {
    // count:obs:COL:VALUE (values may hold ':', column names here do not).
    const std::string rest = fact.substr(std::string("count:obs:").size());
    const std::string col = rest.substr(0, rest.find(':'));
    const std::string label = rest.substr(rest.find(':') + 1);
    CHECK(value_counts(a.obs.labels(col))[label] == std::stoll(value));
  } else if (kind == "obsm_at") {
    const auto& m = a.obsm.at(f[1]);
    CHECK(m(std::stoll(f[2]), std::stoll(f[3])) == static_cast<float>(std::stod(value)));
  } else {
    FAIL("unknown fact kind " << kind);
  }
}

AnnData read_any(const std::string& rel) {
  const std::string p = data_path(rel);
  return rel.size() > 3 && rel.substr(rel.size() - 3) == ".h5" ? read_10x_h5(p) : read_h5ad(p);
}

bool python_anndata_available() {
  static const int rc = std::system("/usr/bin/python3 -c 'import anndata' >/dev/null 2>&1");
  return rc == 0;
}

}  // namespace

TEST_CASE("every shared file reads and matches the facts computed with Python") {
  std::ifstream in("tests/reference/h5ad_facts.tsv");
  REQUIRE_MESSAGE(in.good(), "tests/reference/h5ad_facts.tsv not found (run the tests from the repository root)");
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> facts;
  std::string line;
  while (std::getline(in, line)) {
    auto f = split(line, '\t');
    REQUIRE(f.size() == 3);
    facts[f[0]].emplace_back(f[1], f[2]);
  }
  CHECK(facts.size() == kH5ad.size() + 2);
  for (auto& [rel, list] : facts) {
    INFO(rel);
    if (!cg::test::have_data({rel})) continue;
    AnnData a = read_any(rel);
    for (auto& [fact, value] : list) check_fact(a, fact, value);
  }
}

TEST_CASE("shared files have the shapes and labels the data manifest states") {
  std::vector<std::string> needed = kH5ad;
  needed.insert(needed.end(), {"perturbation/liger_ctrl.h5", "perturbation/liger_stim.h5"});
  if (!cg::test::have_data(needed)) return;
  AnnData kang = read_h5ad(data_path("perturbation/kang_scgen_valid_lognorm.h5ad"));
  CHECK(kang.n_obs() == 1975);
  CHECK(kang.n_vars() == 6998);
  CHECK(kang.X.sparse);
  CHECK(kang.obs.index_name == "index");
  auto cond = value_counts(kang.obs.labels("condition"));
  CHECK(cond["control"] == 936);
  CHECK(cond["stimulated"] == 1039);
  CHECK(cond.size() == 2);
  CHECK(kang.obs.column("cell_type").categories.size() == 7);
  CHECK(kang.obs.column("n_genes").num_type == h5::NumType::Int64);
  CHECK(kang.X.csr.data.size() > 0);
  CHECK(*std::max_element(kang.X.csr.data.begin(), kang.X.csr.data.end()) == doctest::Approx(6.77).epsilon(0.01));

  for (const char* mod : {"RNA", "Ephys", "Morph"}) {
    AnnData p = read_h5ad(data_path(std::string("crossmodal/unitednet_patchseq_") + mod + "_TEM.h5ad"));
    CHECK(p.n_obs() == 448);
    CHECK(!p.X.sparse);
    CHECK(p.obs.column("cell_type_TEM").categories.size() == 27);
    CHECK(p.obs.column("cell_type_T").categories.size() == 52);
  }
  CHECK(read_h5ad(data_path("crossmodal/unitednet_patchseq_RNA_TEM.h5ad")).n_vars() == 1252);
  CHECK(read_h5ad(data_path("crossmodal/unitednet_patchseq_Ephys_TEM.h5ad")).n_vars() == 68);
  CHECK(read_h5ad(data_path("crossmodal/unitednet_patchseq_Morph_TEM.h5ad")).n_vars() == 514);

  AnnData rna = read_h5ad(data_path("crossmodal/eccite_citefuse_rna.h5ad"));
  CHECK(rna.n_obs() == 500);
  CHECK(rna.n_vars() == 19521);
  CHECK(rna.obsm.at("protein_counts").rows() == 500);
  CHECK(rna.obsm.at("protein_counts").cols() == 49);
  CHECK(rna.uns.at("protein_names").strings.size() == 49);
  check_counts(rna.X, "eccite rna");
  AnnData adt = read_h5ad(data_path("crossmodal/eccite_citefuse_adt.h5ad"));
  CHECK(adt.n_obs() == 500);
  CHECK(adt.n_vars() == 49);
  CHECK(adt.obs.index == rna.obs.index);

  AnnData sr = read_h5ad(data_path("crossmodal/scicar_a549_dex_rna.h5ad"));
  CHECK(sr.n_obs() == 2641);
  CHECK(sr.n_vars() == 1185);
  auto treat = value_counts(sr.obs.labels("treatment"));
  CHECK(treat["control_0h"] == 583);
  CHECK(treat["DEX_1h"] == 983);
  CHECK(treat["DEX_3h"] == 1075);
  REQUIRE(sr.layers.count("counts_recovered"));
  check_counts(sr.layers.at("counts_recovered"), "scicar counts");
  AnnData sa = read_h5ad(data_path("crossmodal/scicar_a549_dex_atac.h5ad"));
  CHECK(sa.n_obs() == 2641);
  CHECK(sa.n_vars() == 52761);
  CHECK(sa.var.column_order == std::vector<std::string>{"chrom", "start", "end"});
  CHECK(sa.var.column("chrom").type == Column::Type::Categorical);

  AnnData pb = read_h5ad(data_path("classification/scanpy_pbmc68k_reduced.h5ad"));
  CHECK(pb.n_obs() == 700);
  CHECK(pb.n_vars() == 765);
  CHECK(pb.obs.column("bulk_labels").categories.size() == 10);
  CHECK(pb.var.column("highly_variable").num_type == h5::NumType::Bool);
  CHECK(pb.obsm.at("X_pca").cols() == 50);
  CHECK(pb.uns.at("neighbors/params/method").strings == std::vector<std::string>{"umap"});
  CHECK(pb.uns.at("louvain/params/resolution").integer);
  CHECK(!pb.uns.at("louvain/params/resolution").scalar);
  // What this reader does not model is reported, not silently dropped.
  for (const char* k : {"raw", "obsp", "varm", "uns/rank_genes_groups/names"})
    CHECK(std::find(pb.skipped.begin(), pb.skipped.end(), k) != pb.skipped.end());

  for (const char* cond_name : {"ctrl", "stim"}) {
    AnnData l = read_10x_h5(data_path(std::string("perturbation/liger_") + cond_name + ".h5"));
    CHECK(l.n_obs() == 300);
    CHECK(l.n_vars() == (std::string(cond_name) == "ctrl" ? 266 : 262));
    CHECK(l.X.sparse);
    check_counts(l.X, "liger");
    CHECK(contains(l.obs.index[0], cond_name));
  }
}

TEST_CASE("every shared .h5ad survives write_h5ad: our reader and Python anndata see the same values") {
  if (!cg::test::have_data(kH5ad)) return;
  cg::test::TempDir tmp;
  std::string pairs;
  for (const auto& rel : kH5ad) {
    INFO(rel);
    AnnData a = read_h5ad(data_path(rel));
    std::string out = tmp.file(rel.substr(rel.find('/') + 1));
    write_h5ad(out, a);
    AnnData b = read_h5ad(out);
    cg::test::check_same_anndata(a, b);
    pairs += " '" + data_path(rel) + "' '" + out + "'";
  }
  // A compressed write reads back the same.
  AnnData k = read_h5ad(data_path("perturbation/kang_scgen_valid_lognorm.h5ad"));
  write_h5ad(tmp.file("kang_gzip.h5ad"), k, WriteOptions{4});
  cg::test::check_same_anndata(k, read_h5ad(tmp.file("kang_gzip.h5ad")));
  pairs += " '" + data_path("perturbation/kang_scgen_valid_lognorm.h5ad") + "' '" + tmp.file("kang_gzip.h5ad") + "'";

  if (!python_anndata_available()) {
    MESSAGE("skipping the Python anndata check: /usr/bin/python3 cannot import anndata");
    return;
  }
  const std::string cmd =
      "/usr/bin/python3 scripts/check_h5ad_roundtrip.py" + pairs + " > " + tmp.file("py.log") + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream log(tmp.file("py.log"));
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  INFO("python says: " << text);
  CHECK(rc == 0);
  CHECK(contains(text, "OK (10 files)"));
}

TEST_CASE("10x .h5 files convert to an .h5ad that anndata reads") {
  if (!cg::test::have_data({"perturbation/liger_ctrl.h5"})) return;
  cg::test::TempDir tmp;
  AnnData l = read_10x_h5(data_path("perturbation/liger_ctrl.h5"));
  write_h5ad(tmp.file("liger.h5ad"), l);
  AnnData b = read_h5ad(tmp.file("liger.h5ad"));
  cg::test::check_same_anndata(l, b);
  if (!python_anndata_available()) {
    MESSAGE("skipped the anndata read-back of the 10x conversion: /usr/bin/python3 with anndata not found");
    return;
  }
  const std::string cmd =
      "/usr/bin/python3 -c \"import anndata as ad, h5py, numpy as np, scipy.sparse as sp; "
      "a = ad.read_h5ad('" +
      tmp.file("liger.h5ad") +
      "'); "
      "g = h5py.File('" +
      data_path("perturbation/liger_ctrl.h5") +
      "')['matrix']; "
      "X = sp.csc_matrix((g['data'][:], g['indices'][:], g['indptr'][:]), shape=tuple(g['shape'][:])).T; "
      "assert a.shape == (300, 266) and abs(a.X - X).max() == 0; "
      "assert list(a.var_names) == [s.decode() for s in g['features/name'][:]]\"";
  CHECK(std::system(cmd.c_str()) == 0);
}

namespace {
// Subset reads must equal the same slice of the full read.
void check_subset(const std::string& rel, const std::vector<int64_t>* rows, const std::vector<int64_t>* genes,
                  const std::string& layer = "") {
  AnnData full = read_h5ad(data_path(rel));
  ReadOptions opt;
  if (rows) opt.rows = *rows;
  if (genes) opt.genes = *genes;
  AnnData sub = read_h5ad(data_path(rel), opt);
  const auto& fm = layer.empty() ? full.X : full.layers.at(layer);
  const auto& sm = layer.empty() ? sub.X : sub.layers.at(layer);
  const int64_t nr = rows ? static_cast<int64_t>(rows->size()) : full.n_obs();
  const int64_t nc = genes ? static_cast<int64_t>(genes->size()) : full.n_vars();
  REQUIRE(sm.rows() == nr);
  REQUIRE(sm.cols() == nc);
  CHECK(sm.sparse == fm.sparse);
  DenseMatrix fd = fm.to_dense(), sd = sm.to_dense();
  for (int64_t i = 0; i < nr; ++i)
    for (int64_t j = 0; j < nc; ++j) {
      const int64_t r = rows ? (*rows)[i] : i, c = genes ? (*genes)[j] : j;
      if (sd(i, j) != fd(r, c)) {
        FAIL("mismatch at (" << i << ", " << j << ")");
        return;
      }
    }
  if (sm.sparse && genes)  // a reordering gene subset leaves indices sorted within each row
    for (int64_t i = 0; i < nr; ++i)
      for (int64_t k = sm.csr.indptr[i] + 1; k < sm.csr.indptr[i + 1]; ++k)
        REQUIRE(sm.csr.indices[k - 1] < sm.csr.indices[k]);
  for (int64_t i = 0; i < nr; ++i) CHECK(sub.obs.index[i] == full.obs.index[rows ? (*rows)[i] : i]);
  for (int64_t j = 0; j < nc; ++j) CHECK(sub.var.index[j] == full.var.index[genes ? (*genes)[j] : j]);
  for (auto& [name, col] : full.obs.columns) {
    auto want = col.labels();
    auto got = sub.obs.column(name).labels();
    for (int64_t i = 0; i < nr; ++i) REQUIRE(got[i] == want[rows ? (*rows)[i] : i]);
  }
  for (auto& [k, m] : full.obsm)
    for (int64_t i = 0; i < nr; ++i) REQUIRE(sub.obsm.at(k).row(i) == m.row(rows ? (*rows)[i] : i));
}
}  // namespace

TEST_CASE("row and gene subsets read only what is asked and equal slices of the full read") {
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad", "crossmodal/eccite_citefuse_adt.h5ad",
                            "crossmodal/scicar_a549_dex_rna.h5ad", "classification/scanpy_pbmc68k_reduced.h5ad"}))
    return;
  const std::vector<int64_t> rows = {5, 1, 1, 1974, 100, 101, 102, 103, 0, 1500};
  const std::vector<int64_t> genes = {10, 3, 6997, 500, 0, 501, 502};
  SUBCASE("CSR X, rows and genes") { check_subset("perturbation/kang_scgen_valid_lognorm.h5ad", &rows, &genes); }
  SUBCASE("CSR X, rows only") { check_subset("perturbation/kang_scgen_valid_lognorm.h5ad", &rows, nullptr); }
  SUBCASE("CSR X, genes only") { check_subset("perturbation/kang_scgen_valid_lognorm.h5ad", nullptr, &genes); }
  SUBCASE("CSR layer") {
    const std::vector<int64_t> r = {2640, 0, 7, 8, 9, 1320}, g = {1184, 0, 17};
    check_subset("crossmodal/scicar_a549_dex_rna.h5ad", &r, &g, "counts_recovered");
  }
  SUBCASE("dense X with obsm") {
    const std::vector<int64_t> r = {699, 0, 1, 2, 350, 350}, g = {764, 0, 300, 301};
    check_subset("classification/scanpy_pbmc68k_reduced.h5ad", &r, &g);
    check_subset("classification/scanpy_pbmc68k_reduced.h5ad", &r, nullptr);
    check_subset("classification/scanpy_pbmc68k_reduced.h5ad", nullptr, &g);
  }
  SUBCASE("empty subsets") {
    const std::vector<int64_t> none;
    check_subset("crossmodal/eccite_citefuse_adt.h5ad", &none, nullptr);
    check_subset("crossmodal/eccite_citefuse_adt.h5ad", nullptr, &none);
  }
  SUBCASE("metadata only") {
    ReadOptions opt;
    opt.load_X = false;
    AnnData a = read_h5ad(data_path("perturbation/kang_scgen_valid_lognorm.h5ad"), opt);
    CHECK(a.n_obs() == 1975);
    CHECK(a.X.rows() == 0);
  }
}

TEST_CASE("write_h5ad keeps dtypes, categoricals, uns and writes nothing on failure") {
  cg::test::TempDir tmp;
  AnnData a;
  a.obs.index = {"c1", "c2", "c3"};
  a.var.index = {"g1", "g2"};
  a.X = Matrix::from(CsrMatrix::from_dense((DenseMatrix(3, 2) << 1, 0, 0, 2.5f, 3, 0).finished()));
  a.obs.set("score", Column::numeric({0.5, -1.25, 1e300}));
  a.obs.set("n", Column::numeric({1, 2, 9007199254740992.0}, h5::NumType::Int64));
  a.obs.set("flag", Column::numeric({1, 0, 1}, h5::NumType::Bool));
  a.obs.set("name", Column::text({"x", "ü", ""}));
  a.obs.set("type", Column::categorical({"B", "A", ""}));
  a.var.set("small", Column::numeric({7, 8}, h5::NumType::Int8));
  a.obsm["X_emb"] = DenseMatrix::Constant(3, 4, 0.25f);
  a.layers["dense"] = Matrix::from(a.dense_X());
  a.uns["alpha"] = UnsValue::number(0.1);
  a.uns["nested/k"] = UnsValue::number(3, true);
  a.uns["title"] = UnsValue::text("run 1");
  UnsValue arr;
  arr.scalar = false;
  arr.numbers = {1, 2, 3};
  a.uns["arr"] = arr;

  write_h5ad(tmp.file("t.h5ad"), a);
  AnnData b = read_h5ad(tmp.file("t.h5ad"));
  cg::test::check_same_anndata(a, b);
  CHECK(b.obs.column("type").categories == std::vector<std::string>{"A", "B"});
  CHECK(b.obs.column("type").codes == std::vector<int32_t>{1, 0, -1});
  CHECK(b.obs.labels("type") == std::vector<std::string>{"B", "A", ""});

  if (!python_anndata_available())
    MESSAGE("skipped the anndata read-back of the typed columns: /usr/bin/python3 with anndata not found");
  if (python_anndata_available()) {
    const std::string cmd =
        "/usr/bin/python3 -c \"import anndata as ad, numpy as np; a = ad.read_h5ad('" + tmp.file("t.h5ad") +
        "'); "
        "assert a.obs['n'].dtype == np.int64 and a.obs['n'].iloc[2] == 2**53; "
        "assert a.obs['flag'].dtype == bool and list(a.obs['flag']) == [True, False, True]; "
        "assert list(a.obs['name']) == ['x', 'ü', '']; "
        "assert list(a.obs['type'].cat.categories) == ['A', 'B'] and a.obs['type'].isna().tolist() == [False, False, "
        "True]; "
        "assert a.var['small'].dtype == np.int8; assert a.X[1, 1] == 2.5 and a.X.format == 'csr'; "
        "assert a.uns['nested']['k'] == 3 and a.uns['title'] == 'run 1' and list(a.uns['arr']) == [1, 2, 3]; "
        "assert a.obsm['X_emb'].shape == (3, 4) and a.layers['dense'][2, 0] == 3\"";
    CHECK(std::system(cmd.c_str()) == 0);
  }

  // A failure in the middle of writing (here: an invalid layer, found after X was written)
  // leaves neither the destination nor the temporary file.
  AnnData bad = a;
  CsrMatrix broken = a.X.csr;
  broken.indices[0] = 99;
  bad.layers["broken"] = Matrix::from(broken);
  const std::string dest = tmp.file("bad.h5ad");
  std::string msg = cg::test::data_error_of([&] { write_h5ad(dest, bad); });
  CHECK(contains(msg, dest));
  CHECK(contains(msg, "broken"));
  CHECK(std::filesystem::is_empty(tmp.path / "") == false);
  for (auto& entry : std::filesystem::directory_iterator(tmp.path)) CHECK(!contains(entry.path().string(), "bad.h5ad"));

  // Overwriting keeps the old file until the new one is complete.
  write_h5ad(tmp.file("t.h5ad"), b);
  CHECK(read_h5ad(tmp.file("t.h5ad")).n_obs() == 3);
}
