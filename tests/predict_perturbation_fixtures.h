#pragma once
// Shared by the predict_perturbation app tests: small synthetic .h5ad files (cell types A/B/C,
// control/stim, 20 genes of log-normalised-looking values), the cheap flags, and the check that
// a refused run printed one clear error line and wrote nothing.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "omics/anndata.h"
#include "test_omics_io_util.h"
#include "tests/app_runner.h"

namespace cg::test::perturb {

namespace fs = std::filesystem;
using cg::test::TempDir;

inline bool have_binary() { return cg::test::have_app("predict_perturbation"); }

using Result = cg::test::AppResult;

// Runs the binary with `args` (stdout and stderr captured together).
inline Result run(const TempDir& tmp, const std::string& args) {
  return cg::test::run_app("predict_perturbation", tmp, args);
}

inline std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// (cell type, condition) of every cell.
using Cells = std::vector<std::pair<std::string, std::string>>;

// `n` cells of every (type, condition) pair.
inline Cells groups(const std::vector<std::string>& types, const std::vector<std::string>& conditions, int n) {
  Cells c;
  for (const auto& t : types)
    for (const auto& k : conditions)
      for (int i = 0; i < n; ++i) c.push_back({t, k});
  return c;
}

// The standard data set: types A, B, C x control, stim, 12 cells each.
inline Cells standard_cells() { return groups({"A", "B", "C"}, {"control", "stim"}, 12); }

// Removes all but `keep` cells of (type, condition).
inline Cells keep_only(Cells cells, const std::string& type, const std::string& condition, int keep) {
  Cells out;
  for (const auto& c : cells) {
    if (c.first == type && c.second == condition) {
      if (keep <= 0) continue;
      --keep;
    }
    out.push_back(c);
  }
  return out;
}

inline Cells operator+(Cells a, const Cells& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

constexpr int kGenes = 20;

// Log-normalised-looking values in [0, 3]: a pattern per cell and gene, a small offset per type,
// and a response of +0.5 on the first 5 genes in any non-control condition.
inline float smooth_value(int64_t i, int j, const std::string& type, const std::string& condition) {
  const float base = 0.1f + static_cast<float>((i * 7 + j * 5) % 15) / 7.0f + 0.1f * static_cast<float>(type[0] - 'A');
  return base + (condition != "control" && j < 5 ? 0.5f : 0.0f);
}

using ValueFn = std::function<float(int64_t, int, const std::string&, const std::string&)>;

inline void write_data(const std::string& path, const Cells& cells, const ValueFn& value = smooth_value) {
  cg::omics::AnnData a;
  const int64_t n = static_cast<int64_t>(cells.size());
  cg::omics::DenseMatrix x(n, kGenes);
  std::vector<std::string> types, conds;
  for (int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < kGenes; ++j) x(i, j) = value(i, j, cells[i].first, cells[i].second);
    a.obs.index.push_back("c" + std::to_string(i));
    types.push_back(cells[i].first);
    conds.push_back(cells[i].second);
  }
  a.X = cg::omics::Matrix::from(x);
  a.obs.set("condition", cg::omics::Column::categorical(conds));
  a.obs.set("cell_type", cg::omics::Column::categorical(types));
  for (int j = 0; j < kGenes; ++j) a.var.index.push_back("g" + std::to_string(j));
  cg::omics::write_h5ad(path, a);
}

// Flags that keep the evaluation cheap.
inline const std::string kCheap = " --seeds 0 --device cpu --bootstrap 2 --pca-components 2 --top-degs 5";

// The flags of a cheap run on `data` into `out` (CLI11 refuses a flag given twice, so the ones
// that tests vary are parameters).
inline std::string base_args(const std::string& data, const std::string& out, const std::string& held_out = "A",
                             const std::string& models = "control,shift") {
  return "--data " + data + " --models " + models + " --held-out " + held_out + kCheap + " --out " + out;
}

// No staging folder, set-aside run or lock file of `out` (".cellgrad-staging-<name>-<pid>" and
// the like, see apps/common/run_folder.h) is left beside it.
inline void check_no_staging_left(const std::string& out) {
  const fs::path p(out);
  for (const auto& e : fs::directory_iterator(p.parent_path()))
    CHECK_MESSAGE(!(e.path().filename().string().rfind(".cellgrad-", 0) == 0 &&
                    contains(e.path().filename().string(), "-" + p.filename().string())),
                  e.path().string());
}

inline void check_nothing_written(const std::string& out) {
  CHECK_MESSAGE(!fs::exists(out), out);
  check_no_staging_left(out);
}

// The run failed with exactly one error line, the last one, holding every part of `expected`;
// nothing was written into `out`.
inline void check_refused(const Result& r, const std::string& out, std::initializer_list<std::string> expected) {
  INFO("output:\n" << r.output);
  CHECK(r.code != 0);
  const std::string prefix = "predict_perturbation: error: ";
  const size_t at = r.output.find(prefix);
  REQUIRE(at != std::string::npos);
  CHECK(r.output.find(prefix, at + 1) == std::string::npos);
  std::string line = r.output.substr(at);
  CHECK(line.back() == '\n');
  line.pop_back();
  CHECK_MESSAGE(!contains(line, "\n"), "the error is not the last line, or spans several lines");
  for (const auto& e : expected) CHECK_MESSAGE(contains(line, e), "expected in the error: " << e);
  check_nothing_written(out);
}

}  // namespace cg::test::perturb
