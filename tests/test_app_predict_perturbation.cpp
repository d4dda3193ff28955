// End-to-end tests of the predict_perturbation binary (apps are not linked into the test binary,
// so the built program is run with std::system). The binary is the one beside the test binary
// ($CELLGRAD_BIN_DIR overrides; see app_runner.h); a missing binary fails the tests. Small
// synthetic .h5ad files (cell types A/B/C, control/stim) exercise the bad-input paths, which must
// fail with one clear line and leave no run folder (nor its staging folder) behind; a short
// baseline run checks the resolved config and the outputs.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "omics/anndata.h"
#include "test_omics_io_util.h"
#include "tests/app_runner.h"

namespace fs = std::filesystem;
using cg::test::TempDir;

namespace {

bool have_binary() { return cg::test::have_app("predict_perturbation"); }

using Result = cg::test::AppResult;

// Runs the binary with `args` (stdout and stderr captured together).
Result run(const TempDir& tmp, const std::string& args) { return cg::test::run_app("predict_perturbation", tmp, args); }

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// (cell type, condition) of every cell.
using Cells = std::vector<std::pair<std::string, std::string>>;

// `n` cells of every (type, condition) pair.
Cells groups(const std::vector<std::string>& types, const std::vector<std::string>& conditions, int n) {
  Cells c;
  for (const auto& t : types)
    for (const auto& k : conditions)
      for (int i = 0; i < n; ++i) c.push_back({t, k});
  return c;
}

// The standard data set: types A, B, C x control, stim, 12 cells each.
Cells standard_cells() { return groups({"A", "B", "C"}, {"control", "stim"}, 12); }

// Removes all but `keep` cells of (type, condition).
Cells keep_only(Cells cells, const std::string& type, const std::string& condition, int keep) {
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

Cells operator+(Cells a, const Cells& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

constexpr int kGenes = 20;

// Log-normalised-looking values in [0, 3]: a pattern per cell and gene, a small offset per type,
// and a response of +0.5 on the first 5 genes in any non-control condition.
float smooth_value(int64_t i, int j, const std::string& type, const std::string& condition) {
  const float base = 0.1f + static_cast<float>((i * 7 + j * 5) % 15) / 7.0f + 0.1f * static_cast<float>(type[0] - 'A');
  return base + (condition != "control" && j < 5 ? 0.5f : 0.0f);
}

using ValueFn = std::function<float(int64_t, int, const std::string&, const std::string&)>;

void write_data(const std::string& path, const Cells& cells, const ValueFn& value = smooth_value) {
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
const std::string kCheap = " --seeds 0 --device cpu --bootstrap 2 --pca-components 2 --top-degs 5";

// The flags of a cheap run on `data` into `out` (CLI11 refuses a flag given twice, so the ones
// that tests vary are parameters).
std::string base_args(const std::string& data, const std::string& out, const std::string& held_out = "A",
                      const std::string& models = "control,shift") {
  return "--data " + data + " --models " + models + " --held-out " + held_out + kCheap + " --out " + out;
}

// No staging folder of `out` ("<out>.partial-<pid>", see apps/common/run_folder.h) is left beside it.
void check_no_staging_left(const std::string& out) {
  const fs::path p(out);
  for (const auto& e : fs::directory_iterator(p.parent_path()))
    CHECK_MESSAGE(!contains(e.path().filename().string(), p.filename().string() + ".partial"), e.path().string());
}

void check_nothing_written(const std::string& out) {
  CHECK_MESSAGE(!fs::exists(out), out);
  check_no_staging_left(out);
}

// The run failed with exactly one error line, the last one, holding every part of `expected`;
// nothing was written into `out`.
void check_refused(const Result& r, const std::string& out, std::initializer_list<std::string> expected) {
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

}  // namespace

TEST_CASE("predict_perturbation: unknown keys and values are refused, listing what exists") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), out = tmp.file("run");
  write_data(data, standard_cells());

  SUBCASE("an unknown --held-out type lists the types present") {
    const Result r = run(tmp, base_args(data, out, "Z"));
    check_refused(r, out, {"no cell type 'Z' (--held-out)", "types present: A, B, C"});
  }
  SUBCASE("an unknown --control value lists the values present") {
    const Result r = run(tmp, base_args(data, out) + " --control ctrl");
    check_refused(r, out, {"has no value 'ctrl' (--control)", "values present: control, stim"});
  }
  SUBCASE("an unknown --perturbed value lists the values present") {
    const Result r = run(tmp, base_args(data, out) + " --perturbed stim,ifn");
    check_refused(r, out, {"has no value 'ifn' (--perturbed)", "values present: control, stim"});
  }
  SUBCASE("an unknown --cell-type-key names the missing column and the columns present") {
    const Result r = run(tmp, base_args(data, out) + " --cell-type-key celltype");
    check_refused(r, out, {"no column 'celltype'", "condition, cell_type"});
  }
}

TEST_CASE("predict_perturbation: held-out types that cannot be predicted or scored are refused before training") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), out = tmp.file("run");

  SUBCASE("a held-out type without control cells, alone or in the sweep") {
    write_data(data, keep_only(standard_cells(), "B", "control", 0));
    check_refused(run(tmp, base_args(data, out, "B")), out,
                  {"held-out cell type 'B' has no 'control' cells to start the prediction from"});
    check_refused(run(tmp, base_args(data, out, "all")), out,
                  {"held-out cell type 'B' has no 'control' cells to start the prediction from"});
  }
  SUBCASE("a held-out type without perturbed cells") {
    write_data(data, keep_only(standard_cells(), "C", "stim", 0));
    check_refused(run(tmp, base_args(data, out, "C")), out,
                  {"held-out cell type 'C' has no perturbed cells to compare the prediction with"});
  }
  SUBCASE("a held-out type that lacks one of several perturbed values") {
    write_data(data, standard_cells() + groups({"B", "C"}, {"stim2"}, 12));
    check_refused(run(tmp, base_args(data, out)), out, {"held-out cell type 'A' has no 'stim2' cells"});
    check_refused(run(tmp, base_args(data, out, "all")), out, {"held-out cell type 'A' has no 'stim2' cells"});
    // Predicting only the value it has is fine.
    const Result ok = run(tmp, base_args(data, out) + " --perturbed stim");
    CHECK_MESSAGE(ok.code == 0, ok.output);
  }
  SUBCASE("a held-out type with a single control or a single perturbed cell (the DEG test needs two)") {
    write_data(data, keep_only(standard_cells(), "A", "control", 1));
    check_refused(run(tmp, base_args(data, out)), out, {"held-out cell type 'A' has 1 'control' cell", "at least 2"});
    write_data(data, keep_only(standard_cells(), "C", "stim", 1));
    check_refused(run(tmp, base_args(data, out, "all")), out,
                  {"held-out cell type 'C' has 1 'stim' cell", "at least 2"});
  }
  SUBCASE("a perturbed value seen only in the held-out type cannot be learned") {
    write_data(data, standard_cells() + groups({"A"}, {"stim2"}, 12));
    const Result r = run(tmp, base_args(data, out, "A", "scgen") + " --epochs 2");
    check_refused(r, out, {"'stim2'", "only in held-out cell type 'A'"});
    CHECK_FALSE(contains(r.output, "[scgen"));  // refused before any training
    check_refused(run(tmp, base_args(data, out)), out, {"'stim2'", "only in held-out cell type 'A'"});
    // The control baseline learns nothing, so it may still run.
    const Result ok = run(tmp, base_args(data, out, "A", "control"));
    CHECK_MESSAGE(ok.code == 0, ok.output);
  }
  SUBCASE("a training group too small for the validation split is refused before the sweep trains anything") {
    // Two A/stim cells are enough to score A, but once B is held out they are a training group
    // that a validation fraction of 0.2 cannot split.
    write_data(data, keep_only(standard_cells(), "A", "stim", 2));
    const Result r = run(tmp, base_args(data, out, "all", "scgen") + " --epochs 2");
    check_refused(
        r, out,
        {"held-out cell type 'B'", "group (cell type 'A', condition 'stim') has 2 cell(s)", "--validation-fraction"});
    CHECK_FALSE(contains(r.output, "[scgen"));
  }
  SUBCASE("vidr with a single other cell type is refused before training") {
    write_data(data, groups({"A", "B"}, {"control", "stim"}, 12));
    const Result r = run(tmp, base_args(data, out, "A", "vidr") + " --epochs 2");
    check_refused(r, out, {"vidr", "held-out cell type 'A'", "at least 2"});
    CHECK_FALSE(contains(r.output, "[scgen"));
  }
}

TEST_CASE("predict_perturbation: --perturbed listing the control value or a value twice is refused") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), out = tmp.file("run");
  write_data(data, standard_cells());
  check_refused(run(tmp, base_args(data, out) + " --perturbed stim,control"), out,
                {"--perturbed", "control value 'control'"});
  check_refused(run(tmp, base_args(data, out) + " --perturbed stim,stim"), out,
                {"--perturbed", "'stim' is listed twice"});
}

TEST_CASE("predict_perturbation: X with NaN is refused; integer counts run with a warning") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string out = tmp.file("run");
  SUBCASE("NaN") {
    write_data(tmp.file("nan.h5ad"), standard_cells(),
               [](int64_t i, int j, const std::string& t, const std::string& c) {
                 return i == 3 && j == 5 ? NAN : smooth_value(i, j, t, c);
               });
    check_refused(run(tmp, base_args(tmp.file("nan.h5ad"), out)), out,
                  {"X holds a non-finite value at cell 3, gene 5"});
  }
  SUBCASE("integer counts") {
    write_data(tmp.file("counts.h5ad"), standard_cells(), [](int64_t i, int j, const std::string&, const std::string&) {
      return static_cast<float>((i * 13 + j * 7) % 51);
    });
    const Result r = run(tmp, base_args(tmp.file("counts.h5ad"), out));
    CHECK_MESSAGE(r.code == 0, r.output);
    CHECK(contains(r.output, "does not look log-normalised (maximum 50"));
    CHECK(fs::exists(out + "/table.md"));
  }
}

TEST_CASE("predict_perturbation: an earlier run in --out survives a refused and a diverging run") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), out = tmp.file("run");
  write_data(data, standard_cells());
  const Result first = run(tmp, base_args(data, out));
  REQUIRE_MESSAGE(first.code == 0, first.output);
  const std::string config = read_text(out + "/config.json"), table = read_text(out + "/table.md");
  REQUIRE(!config.empty());

  SUBCASE("without --overwrite, a folder holding a run is refused") {
    const Result r = run(tmp, base_args(data, out, "B"));
    CHECK(r.code != 0);
    CHECK_MESSAGE(contains(r.output, "already holds a run (config.json found)"), r.output);
  }
  SUBCASE("a huge --lr makes scgen diverge: one error line, even with --overwrite") {
    const Result r = run(tmp, base_args(data, out, "A", "scgen") + " --epochs 3 --lr 1e30 --overwrite");
    INFO(r.output);
    CHECK(r.code != 0);
    const size_t at = r.output.find("predict_perturbation: error: ");
    REQUIRE(at != std::string::npos);
    const std::string line = r.output.substr(at);
    CHECK(line.find('\n') == line.size() - 1);
    CHECK((contains(line, "diverged") || contains(line, "non-finite")));
  }
  CHECK(read_text(out + "/config.json") == config);
  CHECK(read_text(out + "/table.md") == table);
  check_no_staging_left(out);
}

TEST_CASE("predict_perturbation: --config and settings errors are one clear line") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), out = tmp.file("run");
  write_data(data, standard_cells());
  auto with_config = [&](const std::string& json) {
    std::ofstream(tmp.file("cfg.json")) << json;
    return run(tmp, "--config " + tmp.file("cfg.json") + " " + base_args(data, out));
  };
  SUBCASE("a missing file") {
    check_refused(run(tmp, "--config " + tmp.file("absent.json") + " " + base_args(data, out)), out,
                  {"absent.json: cannot open the file"});
  }
  SUBCASE("bad JSON") { check_refused(with_config("{\"epochs\": "), out, {"cfg.json: not valid JSON"}); }
  SUBCASE("an unknown setting") {
    check_refused(with_config("{\"epoch\": 3}"), out, {"cfg.json: unknown setting 'epoch'"});
  }
  SUBCASE("a setting of the wrong type") {
    check_refused(with_config("{\"epochs\": \"ten\"}"), out, {"cfg.json: setting 'epochs' has the wrong type"});
  }
  SUBCASE("--batch-size 1") {
    check_refused(run(tmp, base_args(data, out) + " --batch-size 1"), out,
                  {"--batch-size: expected at least 2", "found 1"});
  }
  SUBCASE("an unknown model") {
    check_refused(run(tmp, base_args(data, out, "A", "control,scgan")), out, {"--models: unknown model 'scgan'"});
  }
  SUBCASE("--lr 0") {
    check_refused(run(tmp, base_args(data, out) + " --lr 0"), out, {"--lr: expected a positive learning rate"});
  }
}

TEST_CASE("predict_perturbation: a short baseline run resolves its config and writes readable outputs") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), out = tmp.file("run");
  write_data(data, standard_cells());
  std::ofstream(tmp.file("cfg.json"))
      << R"({"models": ["control", "shift"], "held_out": "B", "bootstrap": 3, "top_degs": 5,
                                            "pca_components": 2, "device": "cpu", "seeds": [0]})";
  const Result r = run(tmp, "--config " + tmp.file("cfg.json") + " --data " + data + " --top-degs 7 --out " + out);
  REQUIRE_MESSAGE(r.code == 0, r.output);

  nlohmann::json cfg;
  std::ifstream(out + "/config.json") >> cfg;
  CHECK(cfg["top_degs"] == 7);  // the flag wins over the file
  CHECK(cfg["held_out"] == "B");
  CHECK(cfg["bootstrap"] == 3);
  CHECK(cfg["models"] == nlohmann::json({"control", "shift"}));
  CHECK(cfg["perturbed"] == nlohmann::json({"stim"}));  // resolved from the data

  for (const std::string model : {"control", "shift"}) {
    INFO(model);
    const auto p = cg::omics::read_h5ad(out + "/B/" + model + "/seed0/predicted.h5ad");
    CHECK(p.X.rows() == 12);  // one predicted cell per B control
    CHECK(p.obs.labels("condition") == std::vector<std::string>(12, "predicted"));
    CHECK(p.obs.labels("cell_type") == std::vector<std::string>(12, "B"));
    CHECK(p.var.index.size() == size_t(kGenes));
    CHECK(p.var.index.front() == "g0");
    CHECK(p.var.index.back() == "g19");
    CHECK(fs::exists(out + "/B/" + model + "/seed0/metrics.json"));
  }
  const std::string md = read_text(out + "/table.md"), csv = read_text(out + "/table.csv");
  CHECK(contains(md, "| **control** | **mean** |"));
  CHECK(contains(md, "| **shift** | **mean** |"));
  CHECK(contains(csv, "\nshift,mean,"));
  check_no_staging_left(out);
}

TEST_CASE("predict_perturbation: config paths are relative to the config file; config.json is reusable; --version") {
  if (!have_binary()) return;
  TempDir tmp;
  write_data(tmp.file("d.h5ad"), standard_cells());
  fs::create_directories(tmp.file("cfgdir"));
  // Relative paths inside a config file are relative to its folder, not to the working directory.
  std::ofstream(tmp.file("cfgdir/cfg.json"))
      << R"({"data": "../d.h5ad", "out": "run", "models": ["control"], "held_out": "A",
                                                    "bootstrap": 3, "top_degs": 5, "pca_components": 2, "device": "cpu"})";
  const Result r = run(tmp, "--config " + tmp.file("cfgdir/cfg.json"));
  REQUIRE_MESSAGE(r.code == 0, r.output);
  const std::string out = tmp.file("cfgdir/run");
  REQUIRE(fs::exists(out + "/config.json"));
  nlohmann::json cfg;
  std::ifstream(out + "/config.json") >> cfg;
  CHECK_FALSE(cfg.contains("overwrite"));  // a decision for one invocation, never stored
  CHECK(cfg["data"] == fs::weakly_canonical(tmp.file("d.h5ad")).string());  // absolute
  CHECK(cfg["out"] == fs::weakly_canonical(out).string());

  // The stored config runs again from anywhere; --out (a flag) wins over the stored one.
  const Result again = run(tmp, "--config " + out + "/config.json --out " + tmp.file("again"));
  CHECK_MESSAGE(again.code == 0, again.output);
  CHECK(read_text(tmp.file("again/table.md")) == read_text(out + "/table.md"));
  // ...and without --out it refuses to overwrite the run it came from.
  const Result refused = run(tmp, "--config " + out + "/config.json");
  CHECK(refused.code != 0);
  CHECK_MESSAGE(contains(refused.output, "already holds a run"), refused.output);
  // overwrite in a config file is not a setting.
  std::ofstream(tmp.file("ow.json")) << R"({"overwrite": true})";
  check_refused(run(tmp, "--config " + tmp.file("ow.json") + " " + base_args(tmp.file("d.h5ad"), tmp.file("run3"))),
                tmp.file("run3"), {"unknown setting 'overwrite'"});

  const Result v = run(tmp, "--version");
  CHECK(v.code == 0);
  CHECK_MESSAGE(contains(v.output, "cellgrad "), v.output);
}
