// scripts/translator_ablation.sh (issue 15), the one-command 5-fold Patch-seq translator table, run
// with one model and one epoch (MODELS=mlp EPOCHS=1) against this build's train_multitask: the table
// has the model's row and the baseline rows, each with numbers for both RNA -> Ephys columns, in
// table.md and table.csv, and nothing half-written is left. A few seconds.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/app_runner.h"
#include "tests/test_paths.h"

namespace {

struct ScriptRun {
  int code;
  std::string output;
};

// Runs the script from the repository root (the directory `make test` runs in), with this build's
// binary folder as BUILD_DIR. `env` goes before the command (VAR=value ...).
ScriptRun run_translator_ablation(const cg::test::TempDir& tmp, const std::string& out, const std::string& env) {
  const std::string log = tmp.file("translator_ablation_log.txt");
  const std::string cmd = env + " scripts/translator_ablation.sh '" + cg::test::app_bin_dir() + "' '" + out + "' > " +
                          log + " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream f(log);
  std::stringstream ss;
  ss << f.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) parts.push_back(part);
  if (!s.empty() && s.back() == sep) parts.push_back("");
  return parts;
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(' ');
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(' ') - a + 1);
}

// table.md's rows by their first cell ("mlp", "baseline: mean", ...): the cells after it.
std::map<std::string, std::vector<std::string>> markdown_rows(const std::string& md) {
  std::map<std::string, std::vector<std::string>> rows;
  std::istringstream lines(md);
  for (std::string l; std::getline(lines, l);) {
    if (l.size() < 2 || l[0] != '|' || l.compare(0, 4, "|---") == 0) continue;
    std::vector<std::string> cells = split(l.substr(1, l.size() - 2), '|');
    for (auto& c : cells) c = trim(c);
    if (cells.empty()) continue;
    const std::string name = cells[0];
    cells.erase(cells.begin());
    rows[name] = cells;
  }
  return rows;
}

// A finite number from a CSV cell ("nan", "" and text are not).
bool finite_number(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(v);
}

}  // namespace

TEST_CASE("translator_ablation.sh MODELS=mlp EPOCHS=1: the mlp row and the baseline rows, with numbers, in table.md and table.csv") {
  if (!std::filesystem::exists("scripts/translator_ablation.sh")) {
    FAIL_CHECK("scripts/translator_ablation.sh not found: run the tests from the repository root");
    return;
  }
  if (!cg::test::have_app("train_multitask")) return;
  if (!cg::test::have_data(
          {"crossmodal/unitednet_patchseq_RNA_TEM.h5ad", "crossmodal/unitednet_patchseq_Ephys_TEM.h5ad"}))
    return;
  cg::test::TempDir tmp;
  const std::string out = tmp.file("out");
  const ScriptRun r = run_translator_ablation(tmp, out, "MODELS=mlp EPOCHS=1 SEED=0");
  INFO(r.output);
  REQUIRE(r.code == 0);

  // The run folder and its log; the tables whole, no temporary files left.
  CHECK(std::filesystem::exists(out + "/mlp/table.csv"));
  CHECK(std::filesystem::exists(out + "/mlp.log"));
  CHECK_FALSE(std::filesystem::exists(out + "/unitednet"));
  CHECK_FALSE(std::filesystem::exists(out + "/scbutterfly"));
  REQUIRE(std::filesystem::exists(out + "/table.md"));
  REQUIRE(std::filesystem::exists(out + "/table.csv"));
  for (const auto& entry : std::filesystem::directory_iterator(out)) {
    CAPTURE(entry.path().string());
    CHECK(entry.path().extension() != ".tmp");
  }

  const std::vector<std::string> rows{"mlp", "baseline: mean", "baseline: ridge_pca", "baseline: knn_pca"};

  // table.md: the header line says what the data are and how the values were made; each row has
  // "mean ± sd" numbers for RNA -> Ephys R² and R² per cell (the first two columns after the name).
  const std::string md = read_file(out + "/table.md");
  INFO(md);
  const std::string header = md.substr(0, md.find('\n'));
  CHECK(cg::test::contains(header, "Patch-seq"));
  CHECK(cg::test::contains(header, "448 cells"));
  CHECK(cg::test::contains(header, "RNA 1252 genes + Ephys 68 features"));
  CHECK(cg::test::contains(header, "mean ± sd over 5 folds (seed 0)"));
  CHECK(cg::test::contains(md, "| translator | RNA → Ephys R² | RNA → Ephys R² per cell | Ephys → RNA R² |"));
  const auto md_rows = markdown_rows(md);
  const std::regex mean_sd(R"(^-?[0-9]+\.[0-9]{3} ± [0-9]+\.[0-9]{3}$)");
  for (const std::string& name : rows) {
    CAPTURE(name);
    REQUIRE(md_rows.count(name) == 1);
    const std::vector<std::string>& cells = md_rows.at(name);
    REQUIRE(cells.size() == 6);
    for (size_t i = 0; i < 4; ++i) {
      CAPTURE(cells[i]);
      CHECK(std::regex_match(cells[i], mean_sd));
    }
  }
  // The model's training time is a number; the baselines have none.
  CHECK(finite_number(md_rows.at("mlp")[4]));
  CHECK(md_rows.at("baseline: ridge_pca")[4] == "–");
  // Five rows: mlp and the three baselines (peak_frequency scores binary targets only).
  CHECK(md_rows.size() == 1 + rows.size());  // + the column header row

  // table.csv: the same rows, columns found by name, finite numbers for RNA -> Ephys.
  const std::string csv = read_file(out + "/table.csv");
  INFO(csv);
  std::istringstream lines(csv);
  std::string head_line;
  REQUIRE(std::getline(lines, head_line));
  const std::vector<std::string> head = split(head_line, ',');
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < head.size(); ++i) col[head[i]] = i;
  for (const char* c : {"translator", "kind", "folds", "RNA_to_Ephys_r2_mean", "RNA_to_Ephys_r2_sd",
                        "RNA_to_Ephys_r2_per_cell_mean", "RNA_to_Ephys_r2_per_cell_sd", "Ephys_to_RNA_r2_mean",
                        "Ephys_to_RNA_r2_per_cell_mean", "train_seconds_mean"}) {
    CAPTURE(c);
    REQUIRE(col.count(c) == 1);
  }
  std::map<std::string, std::vector<std::string>> csv_rows;
  for (std::string l; std::getline(lines, l);) {
    if (l.empty()) continue;
    std::vector<std::string> cells = split(l, ',');
    CAPTURE(l);
    REQUIRE(cells.size() == head.size());
    const std::string name = cells[col["kind"]] == "baseline" ? "baseline: " + cells[col["translator"]]
                                                               : cells[col["translator"]];
    csv_rows[name] = cells;
  }
  CHECK(csv_rows.size() == rows.size());
  for (const std::string& name : rows) {
    CAPTURE(name);
    REQUIRE(csv_rows.count(name) == 1);
    const std::vector<std::string>& cells = csv_rows.at(name);
    CHECK(cells[col["kind"]] == (name == "mlp" ? "model" : "baseline"));
    CHECK(cells[col["folds"]] == "5");
    for (const char* c :
         {"RNA_to_Ephys_r2_mean", "RNA_to_Ephys_r2_sd", "RNA_to_Ephys_r2_per_cell_mean", "RNA_to_Ephys_r2_per_cell_sd"}) {
      CAPTURE(c);
      CHECK(finite_number(cells[col[c]]));
    }
  }
  CHECK(finite_number(csv_rows.at("mlp")[col["train_seconds_mean"]]));
  // Ridge on the source's principal components predicts Ephys from RNA (R² about 0.3), the mean does not.
  CHECK(std::strtod(csv_rows.at("baseline: ridge_pca")[col["RNA_to_Ephys_r2_mean"]].c_str(), nullptr) > 0.2);
  CHECK(std::fabs(std::strtod(csv_rows.at("baseline: mean")[col["RNA_to_Ephys_r2_mean"]].c_str(), nullptr)) < 0.05);
}

TEST_CASE("translator_ablation.sh: an unknown model in MODELS is refused with exit status 2, before anything runs") {
  if (!std::filesystem::exists("scripts/translator_ablation.sh")) {
    FAIL_CHECK("scripts/translator_ablation.sh not found: run the tests from the repository root");
    return;
  }
  cg::test::TempDir tmp;
  const std::string out = tmp.file("out");
  const ScriptRun r = run_translator_ablation(tmp, out, "MODELS='mlp no_such_model'");
  INFO(r.output);
  CHECK(r.code == 2);
  CHECK(cg::test::contains(r.output, "unknown model 'no_such_model'"));
  CHECK_FALSE(std::filesystem::exists(out));
}
