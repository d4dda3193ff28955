// The storage variants anndata, scipy and other writers produce: float64 / int32 / int64 values,
// int32 / int64 / uint32 indices, CSC instead of CSR, dense integer X, fixed-length strings and
// the anndata < 0.7 sparse markers. Each file is built here with the HDF5 C API.
#include <doctest/doctest.h>

#include <functional>

#include "omics/anndata.h"
#include "omics/hdf5_util.h"
#include "tests/test_omics_io_util.h"

using namespace cg::omics;

namespace {

// The 3 x 4 matrix every variant stores.
DenseMatrix expected() {
  DenseMatrix m(3, 4);
  m << 1, 0, 0, 2,  //
      0, 0, 3, 0,   //
      4, 5, 0, 6;
  return m;
}

// An .h5ad with 3 cells, 4 genes and an X written by `write_x`.
std::string make_file(const cg::test::TempDir& tmp, const std::string& name,
                      const std::function<void(hid_t)>& write_x) {
  AnnData meta;
  meta.obs.index = {"a", "b", "c"};
  meta.var.index = {"g0", "g1", "g2", "g3"};
  meta.X = Matrix::from(expected());
  const std::string path = tmp.file(name);
  write_h5ad(path, meta);
  h5::Hid f(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
  REQUIRE(f.valid());
  REQUIRE(H5Ldelete(f, "X", H5P_DEFAULT) >= 0);
  write_x(f);
  return path;
}

template <class T> void put(hid_t g, const char* name, hid_t mem, hid_t file_type, const std::vector<T>& v) {
  h5::write_numeric(g, name, mem, file_type, {v.size()}, v.data(), 0);
}

void sparse_group(hid_t f, const char* encoding, std::vector<int64_t> shape, const char* shape_attr = "shape") {
  h5::Hid g = h5::create_group(f, "X");
  if (std::string(shape_attr) == "shape") h5::write_encoding(g, encoding, "0.1.0");
  else h5::write_string_attr(g, "h5sparse_format", std::string(encoding).substr(0, 3));
  h5::write_int64_array_attr(g, shape_attr, shape);
}

}  // namespace

TEST_CASE("sparse X in every value and index dtype, CSR and CSC, reads the same matrix") {
  cg::test::TempDir tmp;
  // CSR arrays of expected(): rows (0: cols 0,3) (1: col 2) (2: cols 0,1,3)
  const std::vector<int64_t> csr_indptr = {0, 2, 3, 6}, csr_indices = {0, 3, 2, 0, 1, 3};
  const std::vector<double> csr_data = {1, 2, 3, 4, 5, 6};
  // CSC arrays: columns (0: rows 0,2) (1: row 2) (2: row 1) (3: rows 0,2)
  const std::vector<int64_t> csc_indptr = {0, 2, 3, 4, 6}, csc_indices = {0, 2, 2, 1, 0, 2};
  const std::vector<double> csc_data = {1, 4, 5, 3, 2, 6};

  std::vector<std::string> files;
  files.push_back(make_file(tmp, "csr_f64_i32.h5ad", [&](hid_t f) {
    sparse_group(f, "csr_matrix", {3, 4});
    h5::Hid g(H5Gopen2(f, "X", H5P_DEFAULT));
    put(g, "data", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, csr_data);
    put(g, "indices", H5T_NATIVE_INT64, H5T_STD_I32LE, csr_indices);
    put(g, "indptr", H5T_NATIVE_INT64, H5T_STD_I32LE, csr_indptr);
  }));
  files.push_back(make_file(tmp, "csr_i64_u32.h5ad", [&](hid_t f) {
    sparse_group(f, "csr_matrix", {3, 4});
    h5::Hid g(H5Gopen2(f, "X", H5P_DEFAULT));
    put(g, "data", H5T_NATIVE_DOUBLE, H5T_STD_I64LE, csr_data);
    put(g, "indices", H5T_NATIVE_INT64, H5T_STD_U32BE, csr_indices);
    put(g, "indptr", H5T_NATIVE_INT64, H5T_STD_U64LE, csr_indptr);
  }));
  files.push_back(make_file(tmp, "csc_i32_i64.h5ad", [&](hid_t f) {
    sparse_group(f, "csc_matrix", {3, 4});
    h5::Hid g(H5Gopen2(f, "X", H5P_DEFAULT));
    put(g, "data", H5T_NATIVE_DOUBLE, H5T_STD_I32LE, csc_data);
    put(g, "indices", H5T_NATIVE_INT64, H5T_STD_I64LE, csc_indices);
    put(g, "indptr", H5T_NATIVE_INT64, H5T_STD_I64LE, csc_indptr);
  }));
  files.push_back(make_file(tmp, "legacy_csc.h5ad", [&](hid_t f) {
    sparse_group(f, "csc_matrix", {3, 4}, "h5sparse_shape");
    h5::Hid g(H5Gopen2(f, "X", H5P_DEFAULT));
    put(g, "data", H5T_NATIVE_DOUBLE, H5T_IEEE_F32LE, csc_data);
    put(g, "indices", H5T_NATIVE_INT64, H5T_STD_I32LE, csc_indices);
    put(g, "indptr", H5T_NATIVE_INT64, H5T_STD_I32LE, csc_indptr);
  }));
  files.push_back(make_file(tmp, "dense_i64.h5ad", [&](hid_t f) {
    std::vector<int64_t> v;
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 4; ++c) v.push_back(static_cast<int64_t>(expected()(r, c)));
    h5::write_numeric(f, "X", H5T_NATIVE_INT64, H5T_STD_I64BE, {3, 4}, v.data(), 0);
  }));

  for (const auto& path : files) {
    INFO(path);
    AnnData a = read_h5ad(path);
    CHECK(a.dense_X() == expected());
    if (a.X.sparse) {
      // CSC is converted to CSR with sorted indices.
      CHECK(a.X.csr.indptr == csr_indptr);
      CHECK(a.X.csr.indices == csr_indices);
    }
    // Subsets work the same on every layout, CSC included.
    ReadOptions o;
    o.rows = std::vector<int64_t>{2, 0};
    o.genes = std::vector<int64_t>{3, 1, 0};
    AnnData s = read_h5ad(path, o);
    DenseMatrix want(2, 3);
    want << 6, 5, 4, 2, 0, 1;
    CHECK(s.dense_X() == want);
    CHECK(s.obs.index == std::vector<std::string>{"c", "a"});
    CHECK(s.var.index == std::vector<std::string>{"g3", "g1", "g0"});
  }
}

TEST_CASE("fixed-length and ASCII strings, integer categories and missing column-order read correctly") {
  cg::test::TempDir tmp;
  const std::string path = make_file(tmp, "strings.h5ad", [](hid_t f) {
    std::vector<float> v(12, 0.5f);
    h5::write_numeric(f, "X", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, {3, 4}, v.data(), 0);
    // obs index as fixed-length, space-padded ASCII strings (what R writers produce).
    H5Ldelete(f, "obs/_index", H5P_DEFAULT);
    h5::Hid t(H5Tcopy(H5T_C_S1));
    H5Tset_size(t, 6);
    H5Tset_strpad(t, H5T_STR_SPACEPAD);
    hsize_t n = 3;
    h5::Hid space(H5Screate_simple(1, &n, nullptr));
    h5::Hid d(H5Dcreate2(f, "obs/_index", t, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    const char buf[] = "cell1 cell2 c3    ";
    REQUIRE(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    // A categorical with integer categories, and no column-order attribute on var.
    h5::Hid obs(H5Gopen2(f, "obs", H5P_DEFAULT));
    H5Adelete(obs, "column-order");
    h5::Hid cat = h5::create_group(obs, "batch");
    h5::write_encoding(cat, "categorical", "0.2.0");
    std::vector<int64_t> cats = {10, 20}, codes = {1, 0, -1};
    h5::write_numeric(cat, "categories", H5T_NATIVE_INT64, H5T_STD_I64LE, {2}, cats.data(), 0);
    h5::write_numeric(cat, "codes", H5T_NATIVE_INT64, H5T_STD_I8LE, {3}, codes.data(), 0);
  });
  AnnData a = read_h5ad(path);
  CHECK(a.obs.index == std::vector<std::string>{"cell1", "cell2", "c3"});
  CHECK(a.obs.labels("batch") == std::vector<std::string>{"20", "10", ""});
  CHECK(a.obs.column_order == std::vector<std::string>{"batch"});
}
