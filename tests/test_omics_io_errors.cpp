// Bad input to the readers and writer: every case must be a DataError whose message names the
// file, the dataset key and the problem; nothing may crash or leave a half-written file.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "omics/anndata.h"
#include "omics/attribution_io.h"
#include "omics/hdf5_util.h"
#include "tests/file_size_limit.h"
#include "tests/test_omics_io_util.h"
#include "tests/test_paths.h"

using namespace cg::omics;
using cg::test::contains;
using cg::test::data_error_of;

namespace {

// 4 cells x 3 genes, CSR, with a categorical and a numeric obs column.
AnnData small() {
  AnnData a;
  a.obs.index = {"c0", "c1", "c2", "c3"};
  a.var.index = {"g0", "g1", "g2"};
  DenseMatrix x(4, 3);
  x << 1, 0, 2, 0, 0, 3, 4, 5, 0, 0, 1, 1;
  a.X = Matrix::from(CsrMatrix::from_dense(x));
  a.obs.set("ct", Column::categorical({"T", "B", "T", "NK"}));
  a.obs.set("n", Column::numeric({1, 2, 3, 4}, h5::NumType::Int64));
  return a;
}

// Opens a written file read-write and lets `fn` damage it.
void mutate(const std::string& path, const std::function<void(hid_t)>& fn) {
  h5::silence_errors();
  h5::Hid f(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
  REQUIRE(f.valid());
  fn(f);
}

void replace_ints(hid_t f, const std::string& key, const std::vector<int64_t>& v) {
  REQUIRE(H5Ldelete(f, key.c_str(), H5P_DEFAULT) >= 0);
  h5::write_numeric(f, key, H5T_NATIVE_INT64, H5T_STD_I64LE, {v.size()}, v.data(), 0);
}

// Writes small() with `damage` applied and returns the message of reading it.
std::string read_error_after(const cg::test::TempDir& tmp, const std::string& name,
                             const std::function<void(hid_t)>& damage) {
  const std::string path = tmp.file(name);
  write_h5ad(path, small());
  mutate(path, damage);
  std::string msg = data_error_of([&] { read_h5ad(path); });
  CHECK(contains(msg, path));
  return msg;
}

}  // namespace

TEST_CASE("file-level problems: missing, not HDF5, truncated") {
  cg::test::TempDir tmp;
  const std::string missing = tmp.file("nope.h5ad");
  std::string msg = data_error_of([&] { read_h5ad(missing); });
  CHECK(contains(msg, missing));
  CHECK(contains(msg, "no such file"));
  CHECK(contains(data_error_of([&] { read_10x_h5(missing); }), "no such file"));

  const std::string text = tmp.file("text.h5ad");
  std::ofstream(text) << "gene\tvalue\nCD3E\t1\n";
  msg = data_error_of([&] { read_h5ad(text); });
  CHECK(contains(msg, text));
  CHECK(contains(msg, "not an HDF5 file"));

  // Truncations of a real file at many points: always a DataError naming the file.
  if (!cg::test::have_data({"crossmodal/eccite_citefuse_adt.h5ad"})) return;
  std::ifstream in(cg::test::data_path("crossmodal/eccite_citefuse_adt.h5ad"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(bytes.size() > 100000);
  for (double frac : {0.001, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99}) {
    const std::string cut = tmp.file("cut.h5ad");
    std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() * frac));
    INFO("truncated to " << frac);
    msg = data_error_of([&] { read_h5ad(cut); });
    CHECK(contains(msg, cut));
  }
}

TEST_CASE("a missing obs column lists the columns that exist") {
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad"})) return;
  const std::string path = cg::test::data_path("perturbation/kang_scgen_valid_lognorm.h5ad");
  AnnData a = read_h5ad(path);
  std::string msg = data_error_of([&] { a.obs.column("celltype"); });
  CHECK(contains(msg, path));
  CHECK(contains(msg, "obs"));
  CHECK(contains(msg, "'celltype'"));
  CHECK(contains(msg, "condition, cell_type, n_counts, n_genes"));
}

TEST_CASE("inconsistent sparse matrices are rejected with the key and the problem") {
  cg::test::TempDir tmp;
  std::string msg = read_error_after(tmp, "indptr_len.h5ad", [](hid_t f) {
    replace_ints(f, "X/indptr", {0, 2, 3, 5});
  });
  CHECK(contains(msg, "X/indptr"));
  CHECK(contains(msg, "expected 5"));

  msg = read_error_after(tmp, "indices_range.h5ad", [](hid_t f) {
    replace_ints(f, "X/indices", {0, 2, 2, 0, 7, 1, 2});
  });
  CHECK(contains(msg, "X/indices"));
  CHECK(contains(msg, "column 7"));

  msg = read_error_after(tmp, "negative_index.h5ad", [](hid_t f) {
    replace_ints(f, "X/indices", {0, 2, 2, 0, -1, 1, 2});
  });
  CHECK(contains(msg, "X/indices"));

  msg = read_error_after(tmp, "nnz.h5ad", [](hid_t f) { replace_ints(f, "X/indices", {0, 2, 2, 0, 1, 1, 2, 0}); });
  CHECK(contains(msg, "X"));
  CHECK(contains(msg, "nnz mismatch"));

  msg = read_error_after(tmp, "indptr_end.h5ad", [](hid_t f) { replace_ints(f, "X/indptr", {0, 2, 3, 5, 6}); });
  CHECK(contains(msg, "X/indptr"));
  CHECK(contains(msg, "nnz mismatch"));

  msg = read_error_after(tmp, "indptr_dec.h5ad", [](hid_t f) { replace_ints(f, "X/indptr", {0, 3, 2, 5, 7}); });
  CHECK(contains(msg, "X/indptr"));
  CHECK(contains(msg, "decreases"));

  msg = read_error_after(tmp, "indices_float.h5ad", [](hid_t f) {
    H5Ldelete(f, "X/indices", H5P_DEFAULT);
    std::vector<double> v = {0, 2, 2, 0, 1, 1, 2};
    h5::write_numeric(f, "X/indices", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, {v.size()}, v.data(), 0);
  });
  CHECK(contains(msg, "X/indices"));
  CHECK(contains(msg, "integer"));

  msg = read_error_after(tmp, "shape.h5ad", [](hid_t f) {
    h5::Hid x(H5Gopen2(f, "X", H5P_DEFAULT));
    H5Adelete(x, "shape");
    h5::write_int64_array_attr(x, "shape", {4, 3, 1});
  });
  CHECK(contains(msg, "X"));
  CHECK(contains(msg, "shape"));

  msg = read_error_after(tmp, "encoding.h5ad", [](hid_t f) {
    h5::Hid x(H5Gopen2(f, "X", H5P_DEFAULT));
    H5Adelete(x, "encoding-type");
    h5::write_string_attr(x, "encoding-type", "coo_matrix");
  });
  CHECK(contains(msg, "X"));
  CHECK(contains(msg, "coo_matrix"));
}

TEST_CASE("wrong dtypes, shapes and missing elements") {
  cg::test::TempDir tmp;
  std::string msg = read_error_after(tmp, "x_strings.h5ad", [](hid_t f) {
    H5Ldelete(f, "X", H5P_DEFAULT);
    h5::write_strings(f, "X", {"a", "b"}, false, 0);
  });
  CHECK(contains(msg, "X"));
  CHECK(contains(msg, "numeric"));

  msg = read_error_after(tmp, "x_1d.h5ad", [](hid_t f) {
    H5Ldelete(f, "X", H5P_DEFAULT);
    std::vector<float> v(12, 1.0f);
    h5::write_numeric(f, "X", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, {12}, v.data(), 0);
  });
  CHECK(contains(msg, "X"));
  CHECK(contains(msg, "2-D"));

  msg = read_error_after(tmp, "x_shape.h5ad", [](hid_t f) {
    H5Ldelete(f, "X", H5P_DEFAULT);
    std::vector<float> v(15, 1.0f);
    h5::write_numeric(f, "X", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, {5, 3}, v.data(), 0);
  });
  CHECK(contains(msg, "X"));
  CHECK(contains(msg, "5 x 3"));

  msg = read_error_after(tmp, "no_x.h5ad", [](hid_t f) { H5Ldelete(f, "X", H5P_DEFAULT); });
  CHECK(contains(msg, "X: missing"));

  msg = read_error_after(tmp, "no_obs.h5ad", [](hid_t f) { H5Ldelete(f, "obs", H5P_DEFAULT); });
  CHECK(contains(msg, "obs: missing"));

  msg = read_error_after(tmp, "codes.h5ad", [](hid_t f) { replace_ints(f, "obs/ct/codes", {0, 1, 5, 2}); });
  CHECK(contains(msg, "obs/ct/codes"));
  CHECK(contains(msg, "code 5"));

  msg = read_error_after(tmp, "col_len.h5ad", [](hid_t f) { replace_ints(f, "obs/n", {1, 2, 3}); });
  CHECK(contains(msg, "obs/n"));
  CHECK(contains(msg, "3 values, expected 4"));

  msg = read_error_after(tmp, "ghost.h5ad", [](hid_t f) {
    h5::Hid obs(H5Gopen2(f, "obs", H5P_DEFAULT));
    H5Adelete(obs, "column-order");
    h5::write_string_array_attr(obs, "column-order", {"ct", "ghost"});
  });
  CHECK(contains(msg, "obs/ghost"));
  CHECK(contains(msg, "missing"));

  // A dataset that declares far more data than the file could hold (an unwritten chunked
  // dataset of 2^20 x 2^20 floats) is refused before anything is allocated.
  msg = read_error_after(tmp, "huge.h5ad", [](hid_t f) {
    hsize_t dims[2] = {1u << 20, 1u << 20}, chunk[2] = {64, 64};
    h5::Hid space(H5Screate_simple(2, dims, nullptr));
    h5::Hid dcpl(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_chunk(dcpl, 2, chunk);
    h5::Hid d(H5Dcreate2(f, "obsm/huge", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    REQUIRE(d.valid());
  });
  CHECK(contains(msg, "obsm/huge"));
  CHECK(contains(msg, "truncated or corrupt"));
}

TEST_CASE("bad subsets name the file and the problem") {
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad"})) return;
  const std::string path = cg::test::data_path("perturbation/kang_scgen_valid_lognorm.h5ad");
  ReadOptions o;
  o.rows = std::vector<int64_t>{0, 1975};
  std::string msg = data_error_of([&] { read_h5ad(path, o); });
  CHECK(contains(msg, path));
  CHECK(contains(msg, "row 1975"));
  ReadOptions g;
  g.genes = std::vector<int64_t>{3, 4, 3};
  msg = data_error_of([&] { read_h5ad(path, g); });
  CHECK(contains(msg, path));
  CHECK(contains(msg, "twice"));
  g.genes = std::vector<int64_t>{-1};
  CHECK(contains(data_error_of([&] { read_h5ad(path, g); }), "-1"));
}

TEST_CASE("check_counts rejects NaN and negative values where counts are required") {
  cg::test::TempDir tmp;
  AnnData a = small();
  a.X.csr.data[3] = std::nanf("");
  write_h5ad(tmp.file("nan.h5ad"), a);
  AnnData b = read_h5ad(tmp.file("nan.h5ad"));
  CHECK(std::isnan(b.X.csr.data[3]));  // NaN survives the round trip
  const std::string what = tmp.file("nan.h5ad") + ": X";
  std::string msg = data_error_of([&] { check_counts(b.X, what); });
  CHECK(contains(msg, what));
  CHECK(contains(msg, "NaN"));
  CHECK(contains(msg, "(2, 0)"));

  DenseMatrix d = small().dense_X();
  d(1, 2) = -1;
  msg = data_error_of([&] { check_counts(d, "layers/counts"); });
  CHECK(contains(msg, "layers/counts"));
  CHECK(contains(msg, "(1, 2)"));
  check_counts(small().X, "fine");  // does not throw
}

TEST_CASE("10x readers reject files of another layout") {
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad"})) return;
  cg::test::TempDir tmp;
  const std::string h5ad = cg::test::data_path("perturbation/kang_scgen_valid_lognorm.h5ad");
  std::string msg = data_error_of([&] { read_10x_h5(h5ad); });
  CHECK(contains(msg, h5ad));
  CHECK(contains(msg, "matrix"));

  // A 10x file whose barcodes do not match its shape.
  const std::string path = tmp.file("tenx.h5");
  {
    h5::Hid f = h5::create_file(path);
    h5::Hid g = h5::create_group(f, "matrix");
    std::vector<int64_t> shape = {3, 2}, indptr = {0, 1, 2}, indices = {0, 2};
    std::vector<float> data = {1, 2};
    h5::write_numeric(g, "shape", H5T_NATIVE_INT64, H5T_STD_I64LE, {2}, shape.data(), 0);
    h5::write_numeric(g, "indptr", H5T_NATIVE_INT64, H5T_STD_I64LE, {3}, indptr.data(), 0);
    h5::write_numeric(g, "indices", H5T_NATIVE_INT64, H5T_STD_I64LE, {2}, indices.data(), 0);
    h5::write_numeric(g, "data", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, {2}, data.data(), 0);
    h5::write_strings(g, "barcodes", {"AAA", "CCC", "GGG"}, false, 0);
    h5::Hid feat = h5::create_group(g, "features");
    h5::write_strings(feat, "name", {"A", "B", "C"}, false, 0);
  }
  msg = data_error_of([&] { read_10x_h5(path); });
  CHECK(contains(msg, path));
  CHECK(contains(msg, "matrix/barcodes"));
  CHECK(contains(msg, "expected 2"));
}

TEST_CASE("write_h5ad fails cleanly") {
  cg::test::TempDir tmp;
  const std::string nodir = tmp.file("no/such/dir/out.h5ad");
  std::string msg = data_error_of([&] { write_h5ad(nodir, small()); });
  CHECK(contains(msg, nodir));
  CHECK(std::filesystem::is_empty(tmp.path));

  AnnData a = small();
  a.obsm["bad"] = DenseMatrix::Zero(3, 2);  // wrong number of rows
  msg = data_error_of([&] { write_h5ad(tmp.file("x.h5ad"), a); });
  CHECK(contains(msg, "obsm/bad"));
  CHECK(std::filesystem::is_empty(tmp.path));

  AnnData c = small();
  c.obs.columns["n"].numbers.pop_back();  // column shorter than the index
  msg = data_error_of([&] { write_h5ad(tmp.file("x.h5ad"), c); });
  CHECK(contains(msg, "obs/n"));
  CHECK(std::filesystem::is_empty(tmp.path));

  // A disk that fills up half-way (a file size limit here): an error before the rename, the
  // previous file intact, no temporary file left.
  const auto bytes_of = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  AnnData big = small();
  big.obsm["wide"] = DenseMatrix::Random(big.n_obs(), 20000);  // incompressible
  const std::string out = tmp.file("full.h5ad");
  write_h5ad(out, small());
  const std::string before = bytes_of(out);
  msg = cg::test::error_when_disk_full(before.size() + 4096, [&] { write_h5ad(out, big); });
  CHECK(contains(msg, out));
  CHECK(bytes_of(out) == before);
  std::vector<RankedFeature> rows(20000);
  for (size_t i = 0; i < rows.size(); ++i)
    rows[i] = {"out", 0, static_cast<int64_t>(i + 1), "gene" + std::to_string(i), 0, 1.0, 0.5};
  const std::string csv = tmp.file("full.csv");
  msg = cg::test::error_when_disk_full(4096, [&] { write_attribution_csv(csv, rows); });
  CHECK(contains(msg, csv));
  CHECK(!std::filesystem::exists(csv));
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path)) entries += e.path().filename() != "full.h5ad";
  CHECK(entries == 0);  // no temporary file left behind
}

TEST_CASE("hard links cannot make the reader loop or expand a small file without bound") {
  cg::test::TempDir tmp;
  const std::string path = tmp.file("cycle.h5ad");
  AnnData a = small();
  a.uns["deep/value"] = UnsValue::number(2.5);
  write_h5ad(path, a);
  mutate(path, [](hid_t f) {
    // uns/deep/loop -> uns: a cycle through the group tree.
    REQUIRE(H5Lcreate_hard(f, "uns", f, "uns/deep/loop", H5P_DEFAULT, H5P_DEFAULT) >= 0);
  });
  AnnData b = read_h5ad(path);
  CHECK(b.uns.at("deep/value").numbers == std::vector<double>{2.5});
  CHECK(std::any_of(b.skipped.begin(), b.skipped.end(),
                    [](const std::string& s) { return contains(s, "uns/deep/loop"); }));

  // The per-file budget: at most file size x 4096 (+ slack) bytes may be read from one file.
  h5::Hid f = h5::open_file_readonly(path);
  h5::ReadBudget budget(f, path);
  budget.consume(1 << 20, "obs/a");
  std::string msg = data_error_of([&] { budget.consume(1ull << 40, "obs/b"); });
  CHECK(contains(msg, path));
  CHECK(contains(msg, "obs/b"));
  CHECK(contains(msg, "corrupt"));
}

TEST_CASE("h5ad reader: names that are not valid UTF-8 are refused, naming the entry and the byte") {
  CHECK(h5::first_invalid_utf8("plain") == std::string::npos);
  CHECK(h5::first_invalid_utf8("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\xa7\xac") == std::string::npos);
  CHECK(h5::first_invalid_utf8("c\xff") == 1);
  CHECK(h5::first_invalid_utf8("ab\xc0\xaf") == 2);        // overlong '/'
  CHECK(h5::first_invalid_utf8("\xed\xa0\x80") == 0);      // a UTF-16 surrogate
  CHECK(h5::first_invalid_utf8("x\xe2\x82") == 1);         // truncated
  CHECK(h5::first_invalid_utf8("\xf4\x90\x80\x80") == 0);  // past U+10FFFF
  cg::test::TempDir tmp;
  AnnData a = small();
  a.obs.index[2] =
      "c\xff"
      "2";
  const std::string path = tmp.file("bad_names.h5ad");
  write_h5ad(path, a);
  const std::string e = data_error_of([&] { read_h5ad(path); });
  CHECK_MESSAGE(contains(e, "obs"), e);
  CHECK_MESSAGE(contains(e, "entry 2 is not valid UTF-8 (byte 0xFF at position 1)"), e);
}
