// Resumable training (train_multitask --checkpoint-every N, --resume OUT): a Patch-seq run killed
// right after its epoch-30 checkpoint (a test hook ends the process there as a kill would) and
// resumed ends with the same history, metrics and best epoch as the same run left alone, bit for
// bit on the CPU; the checkpoints folder goes away once the run is committed; a fresh run refuses
// to start over an interrupted one's checkpoints.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/app_runner.h"
#include "tests/test_paths.h"

namespace fs = std::filesystem;
using cg::test::TempDir;

using cg::test::read_json;
using cg::test::write_json;

namespace {

// history.csv without its wall-clock column ("seconds").
std::string history_without_seconds(const std::string& path) {
  std::ifstream f(path);
  std::string header, line, out;
  std::getline(f, header);
  std::vector<std::string> cols;
  std::stringstream hs(header);
  for (std::string c; std::getline(hs, c, ',');) cols.push_back(c);
  auto keep = [&](const std::string& row) {
    std::stringstream rs(row);
    std::string cell, kept;
    for (size_t i = 0; std::getline(rs, cell, ','); ++i)
      if (i < cols.size() && cols[i] != "seconds") kept += cell + ",";
    return kept + "\n";
  };
  out += keep(header);
  while (std::getline(f, line)) out += keep(line);
  return out;
}

}  // namespace

TEST_CASE("train_multitask --resume: a Patch-seq run killed at epoch 30 ends exactly as one left alone") {
  if (!cg::test::have_app("train_multitask") || !cg::test::have_data({"crossmodal/unitednet_patchseq_RNA_TEM.h5ad",
                                                                      "crossmodal/unitednet_patchseq_Ephys_TEM.h5ad"}))
    return;
  TempDir tmp;
  const std::string d = cg::test::data_path("crossmodal/unitednet_patchseq_");
  const std::string args = "--modality RNA=" + d + "RNA_TEM.h5ad --modality Ephys=" + d +
                           "Ephys_TEM.h5ad --preprocess RNA=standardize --label-key cell_type_TEM " +
                           "--no-discriminator --epochs 45 --patience 100 --seed 3 --device cpu --checkpoint-every 10";
  const cg::test::AppResult alone = cg::test::run_app("train_multitask", tmp, args + " --out " + tmp.file("alone"));
  REQUIRE_MESSAGE(alone.code == 0, alone.output);
  CHECK_FALSE(fs::exists(tmp.file("alone.checkpoints")));  // removed once the run is in place

  ::setenv("CELLGRAD_TEST_KILL_AFTER_EPOCH", "30", 1);
  const cg::test::AppResult killed = cg::test::run_app("train_multitask", tmp, args + " --out " + tmp.file("run"));
  ::unsetenv("CELLGRAD_TEST_KILL_AFTER_EPOCH");
  REQUIRE_MESSAGE(killed.code == 137, killed.output);
  CHECK_FALSE(fs::exists(tmp.file("run")));
  REQUIRE(fs::exists(tmp.file("run.checkpoints/config.json")));

  const cg::test::AppResult fresh = cg::test::run_app("train_multitask", tmp, args + " --out " + tmp.file("run"));
  CHECK(fresh.code != 0);
  CHECK_MESSAGE(
      fresh.output.find("holds the checkpoints of an interrupted run; continue it with --resume") != std::string::npos,
      fresh.output);
  const cg::test::AppResult extra =
      cg::test::run_app("train_multitask", tmp, "--resume " + tmp.file("run") + " --epochs 3");
  CHECK(extra.code != 0);
  CHECK_MESSAGE(
      extra.output.find("--epochs: --resume continues with the interrupted run's own settings") != std::string::npos,
      extra.output);

  const cg::test::AppResult resumed = cg::test::run_app("train_multitask", tmp, "--resume " + tmp.file("run"));
  REQUIRE_MESSAGE(resumed.code == 0, resumed.output);
  CHECK_FALSE(fs::exists(tmp.file("run.checkpoints")));
  const auto a = read_json(tmp.file("alone/metrics.json")), r = read_json(tmp.file("run/metrics.json"));
  CHECK(a["translation"] == r["translation"]);
  CHECK(a["classification"] == r["classification"]);
  CHECK(a["best_epoch"] == r["best_epoch"]);
  CHECK(a["epochs_run"] == r["epochs_run"]);
  CHECK(history_without_seconds(tmp.file("alone/history.csv")) == history_without_seconds(tmp.file("run/history.csv")));
  auto a_config = read_json(tmp.file("alone/config.json")), r_config = read_json(tmp.file("run/config.json"));
  a_config.erase("out");
  r_config.erase("out");
  CHECK(a_config == r_config);  // the resumed run keeps the interrupted run's settings

  const cg::test::AppResult none = cg::test::run_app("train_multitask", tmp, "--resume " + tmp.file("nothing"));
  CHECK(none.code != 0);
  CHECK_MESSAGE(none.output.find("no checkpoints of an interrupted run") != std::string::npos, none.output);
}
