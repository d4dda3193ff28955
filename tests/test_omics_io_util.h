#pragma once
// Helpers shared by the omics I/O tests: a scratch folder under /tmp, capturing a DataError's
// message, and exact comparison of AnnData objects.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "omics/anndata.h"
#include "omics/error.h"

namespace cg::test {

// A fresh folder under /tmp, removed with everything in it when the object goes away.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("cellgrad_io_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// The message of the DataError `f` throws; fails the test (and returns "") when it throws
// nothing or something else.
template <class F> std::string data_error_of(F&& f) {
  try {
    f();
  } catch (const cg::omics::DataError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected DataError, got another exception: " << e.what());
    return "";
  }
  FAIL("expected DataError, nothing was thrown");
  return "";
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

inline void check_same_matrix(const cg::omics::Matrix& a, const cg::omics::Matrix& b, const std::string& what) {
  INFO(what);
  REQUIRE(a.sparse == b.sparse);
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  if (a.sparse) {
    CHECK(a.csr.indptr == b.csr.indptr);
    CHECK(a.csr.indices == b.csr.indices);
    CHECK(a.csr.data == b.csr.data);
  } else {
    CHECK(a.dense == b.dense);
  }
}

inline void check_same_frame(const cg::omics::DataFrame& a, const cg::omics::DataFrame& b, const std::string& what) {
  INFO(what);
  CHECK(a.index == b.index);
  CHECK(a.index_name == b.index_name);
  CHECK(a.column_order == b.column_order);
  REQUIRE(a.columns.size() == b.columns.size());
  for (auto& [name, c] : a.columns) {
    INFO("column " << name);
    REQUIRE(b.has(name));
    const auto& d = b.column(name);
    REQUIRE(c.type == d.type);
    CHECK(c.strings == d.strings);
    CHECK(c.categories == d.categories);
    CHECK(c.codes == d.codes);
    CHECK(c.ordered == d.ordered);
    CHECK(c.num_type == d.num_type);
    REQUIRE(c.numbers.size() == d.numbers.size());
    for (size_t i = 0; i < c.numbers.size(); ++i)
      if (!(std::isnan(c.numbers[i]) && std::isnan(d.numbers[i]))) REQUIRE(c.numbers[i] == d.numbers[i]);
  }
}

inline void check_same_anndata(const cg::omics::AnnData& a, const cg::omics::AnnData& b) {
  check_same_matrix(a.X, b.X, "X");
  check_same_frame(a.obs, b.obs, "obs");
  check_same_frame(a.var, b.var, "var");
  REQUIRE(a.obsm.size() == b.obsm.size());
  for (auto& [k, m] : a.obsm) {
    INFO("obsm " << k);
    REQUIRE(b.obsm.count(k));
    CHECK(m == b.obsm.at(k));
  }
  REQUIRE(a.layers.size() == b.layers.size());
  for (auto& [k, m] : a.layers) {
    REQUIRE(b.layers.count(k));
    check_same_matrix(m, b.layers.at(k), "layers/" + k);
  }
  REQUIRE(a.uns.size() == b.uns.size());
  for (auto& [k, v] : a.uns) {
    INFO("uns " << k);
    REQUIRE(b.uns.count(k));
    const auto& w = b.uns.at(k);
    CHECK(v.type == w.type);
    CHECK(v.scalar == w.scalar);
    CHECK(v.integer == w.integer);
    CHECK(v.numbers == w.numbers);
    CHECK(v.strings == w.strings);
  }
}

}  // namespace cg::test
