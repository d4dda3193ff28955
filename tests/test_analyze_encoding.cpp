// analyze_encoding end to end: a Kang subsample through every encoding (files, measures in
// range, no NaN), and the bad inputs that must fail with one line and no output folder.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "omics/anndata.h"
#include "test_omics_io_util.h"
#include "test_paths.h"
#include "tests/app_runner.h"

namespace {

namespace fs = std::filesystem;
using cg::test::TempDir;

cg::test::AppResult run_enc(const TempDir& tmp, const std::string& args) {
  return cg::test::run_app("analyze_encoding", tmp, args);
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Counts for 3 types x 2 batches x 5 cells over 12 genes (type markers), the first cell all zero.
std::string write_fixture(const TempDir& tmp, bool one_batch = false) {
  std::mt19937 rng(5);
  std::poisson_distribution<int> low(1.0), high(8.0);
  cg::omics::AnnData a;
  const int cells = 30, genes = 12;
  cg::omics::DenseMatrix x(cells, genes);
  std::vector<std::string> types, batches;
  for (int i = 0; i < cells; ++i) {
    const int t = i % 3;
    types.push_back(std::string("T") + char('A' + t));
    batches.push_back(one_batch ? "b0" : (i / 3) % 2 ? "b1" : "b0");
    for (int g = 0; g < genes; ++g) x(i, g) = static_cast<float>(g / 4 == t ? high(rng) : low(rng));
    a.obs.index.push_back("cell" + std::to_string(i));
  }
  x.row(0).setZero();
  a.X = cg::omics::Matrix::from(cg::omics::DenseMatrix(x));
  a.obs.set("type", cg::omics::Column::categorical(types));
  a.obs.set("batch", cg::omics::Column::categorical(batches));
  for (int g = 0; g < genes; ++g) a.var.index.push_back("g" + std::to_string(g));
  const std::string path = tmp.file(one_batch ? "one_batch.h5ad" : "cells.h5ad");
  cg::omics::write_h5ad(path, a);
  return path;
}

// A refused run: non-zero exit, one line naming the app, nothing left at --out.
void check_refused(const cg::test::AppResult& r, const std::string& out, const std::string& expected) {
  CHECK(r.code != 0);
  CHECK(contains(r.output, "analyze_encoding: error: "));
  CHECK(contains(r.output, expected));
  size_t error_lines = 0;
  std::istringstream is(r.output);
  for (std::string line; std::getline(is, line);) error_lines += contains(line, "error");
  CHECK(error_lines == 1);
  CHECK_FALSE(fs::exists(out));
  if (!contains(r.output, expected)) MESSAGE(r.output);
}

}  // namespace

TEST_CASE("analyze_encoding: Kang subsample through every encoding, batch and condition questions") {
  if (!cg::test::have_app("analyze_encoding")) return;
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad"})) return;
  TempDir tmp;
  const std::string out = tmp.file("run");
  const auto r = run_enc(tmp, "--data " + cg::test::data_path("perturbation/kang_scgen_valid_lognorm.h5ad") +
                                  " --label-key cell_type --batch-key condition --condition-key condition"
                                  " --control control --stimulated stimulated --max-cells 500 --seed 1 --block 128"
                                  " --pca-components 20 --out " + out);
  REQUIRE_MESSAGE(r.code == 0, r.output);
  for (const char* f : {"table.md", "table.csv", "metrics.json", "outliers.md", "outliers.csv", "config.json",
                        "knn.svg", "batch_mixing.svg", "similarity_rank.svg", "similarity_bins.svg", "warnings.txt"})
    CHECK_MESSAGE(fs::exists(out + "/" + f), f);
  CHECK(contains(r.output, "not whole numbers"));  // log-normalised input, said in a note
  const auto m = cg::test::read_json(out + "/metrics.json");
  CHECK(m["cells"] == 500);
  for (const char* e : {"log1p", "pca", "rank", "rank-top100", "bins"}) {
    CAPTURE(e);
    const auto& j = m["encodings"][e];
    REQUIRE(j.is_object());
    const double auroc = j["auroc_same_type"].get<double>();
    CHECK(auroc > 0.6);
    CHECK(auroc < 1.0);
    CHECK(j["knn"]["purity"].get<double>() > 0.5);
    CHECK(j["knn"]["accuracy_leave_one_out"].get<double>() > 0.6);
    CHECK(j["within_type"]["mean"].get<double>() > j["between_type"]["mean"].get<double>());
    // Stimulation separates cells within a type: fewer other-condition neighbours than chance.
    CHECK(j["batch_mixing"]["observed"].get<double>() < j["batch_mixing"]["expected"].get<double>());
    if (std::string(e) != "pca") {
      CHECK(j["degs_changed"]["total"]["changed"].get<int>() > 0);
      CHECK(j["lost"]["bottom_tied_share"].get<double>() > 0.9);  // Kang cells: a few hundred genes of 6998
    }
  }
  CHECK(m["encodings"]["rank-top100"]["lost"]["bottom_tied_share"].get<double>() >
        m["encodings"]["rank"]["lost"]["bottom_tied_share"].get<double>());
  std::ifstream csv(out + "/table.csv");
  int lines = 0;
  for (std::string line; std::getline(csv, line);) ++lines;
  CHECK(lines == 6);
}

TEST_CASE("analyze_encoding: empty cells are left out with a note; counts are normalised; no NaN") {
  if (!cg::test::have_app("analyze_encoding")) return;
  TempDir tmp;
  const std::string data = write_fixture(tmp), out = tmp.file("run");
  const auto r = run_enc(tmp, "--data " + data + " --label-key type --batch-key batch --pca-components 5 --neighbors 4"
                              " --block 16 --out " + out);
  REQUIRE_MESSAGE(r.code == 0, r.output);
  CHECK(contains(r.output, "1 cells have no nonzero value ('cell0')"));
  const auto m = cg::test::read_json(out + "/metrics.json");
  CHECK(m["cells"] == 29);
  CHECK(m["cells_without_nonzero"] == 1);
  CHECK(m["input"].get<std::string>().rfind("counts", 0) == 0);
  for (const auto& [name, j] : m["encodings"].items()) {
    CAPTURE(name);
    CHECK(j["auroc_same_type"].is_number());
    CHECK(j["knn"]["purity"].is_number());
    CHECK(j["batch_mixing"]["observed"].is_number());
    CHECK(j["auroc_same_type"].get<double>() > 0.8);  // strong type markers
  }
  std::ifstream table(out + "/table.md");
  std::stringstream ss;
  ss << table.rdbuf();
  CHECK_FALSE(contains(ss.str(), "nan"));
}

TEST_CASE("analyze_encoding: bad input fails with one line and no output") {
  if (!cg::test::have_app("analyze_encoding")) return;
  TempDir tmp;
  const std::string data = write_fixture(tmp), one = write_fixture(tmp, true), out = tmp.file("run");
  check_refused(run_enc(tmp, "--data " + data + " --label-key cell_type --out " + out), out,
                "--label-key 'cell_type' is not an obs column (columns present: type, batch)");
  check_refused(run_enc(tmp, "--data " + one + " --label-key type --batch-key batch --out " + out), out,
                "--batch-key 'batch' has one value ('b0')");
  check_refused(run_enc(tmp, "--data " + data + " --label-key type --encodings rank,geneformer --out " + out), out,
                "unknown encoding 'geneformer' (expected one of: log1p, pca, rank, rank-top100, bins)");
  check_refused(run_enc(tmp, "--data " + data + " --label-key type --condition-key batch --out " + out), out,
                "--condition-key 'batch' has no 'control' cells (values present: b0, b1)");
  check_refused(run_enc(tmp, "--data " + tmp.file("missing.h5ad") + " --label-key type --out " + out), out, "missing.h5ad");
}
