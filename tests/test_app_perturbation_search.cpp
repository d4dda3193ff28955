// predict_perturbation --search-lr: every rate of a network's declared grid is trained and
// recorded, the kept model is the one with the lowest validation loss, a rate given beside the
// search is refused, and the choice is made without the held-out type's cells.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/predict_perturbation_fixtures.h"

using cg::test::TempDir;
using cg::test::read_json;
using namespace cg::test::perturb;

namespace {

// One column of a history.csv, by its header name.
std::vector<double> history_column(const std::string& path, const std::string& name) {
  std::istringstream in(read_text(path));
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  for (std::istringstream h(line); std::getline(h, line, ',');) header.push_back(line);
  const auto at = std::find(header.begin(), header.end(), name);
  REQUIRE_MESSAGE(at != header.end(), path << " has no column " << name);
  std::vector<double> out;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string cell;
    for (long k = 0; k <= at - header.begin(); ++k) std::getline(row, cell, ',');
    out.push_back(std::stod(cell));
  }
  return out;
}

double min_of(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

// A's stim cells, far from every other cell: they raise any loss they enter.
float poisoned_value(int64_t i, int j, const std::string& type, const std::string& condition) {
  return type == "A" && condition == "stim" ? 30.25f : smooth_value(i, j, type, condition);
}

}  // namespace

TEST_CASE("predict_perturbation --search-lr: every grid rate is trained and recorded; the lowest validation loss is "
          "kept; each candidate is the recipe at that rate") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), out = tmp.file("run");
  write_data(data, standard_cells());
  const Result r = run(tmp, base_args(data, out, "A", "mtae,shift") + " --epochs 3 --latent 4 --search-lr");
  REQUIRE_MESSAGE(r.code == 0, r.output);
  const nlohmann::json m = read_json(out + "/A/mtae/seed0/metrics.json");
  REQUIRE(m.contains("lr_search"));
  const nlohmann::json& s = m["lr_search"];
  CHECK(s["grid"] == nlohmann::json({3e-5, 1e-4, 3e-4, 1e-3}));
  REQUIRE(s["candidates"].size() == 4);
  double best = std::numeric_limits<double>::infinity(), argmin = 0;
  for (size_t k = 0; k < 4; ++k) {
    const nlohmann::json& cand = s["candidates"][k];
    CHECK(cand["lr"] == s["grid"][k]);
    REQUIRE(cand["best_val_loss"].is_number());
    const double loss = cand["best_val_loss"].get<double>();
    CHECK(std::isfinite(loss));
    CHECK(cand["best_epoch"].get<int>() >= 1);
    CHECK(cand["best_epoch"].get<int>() <= 3);
    if (loss < best) best = loss, argmin = cand["lr"].get<double>();
  }
  CHECK(s["chosen_lr"].get<double>() == argmin);
  // The model kept, predicted with and logged is the chosen one: its curve's best is the argmin's.
  CHECK(min_of(history_column(out + "/A/mtae/seed0/history.csv", "val_loss")) == doctest::Approx(best).epsilon(1e-6));
  // The baseline trains nothing and records no search.
  CHECK_FALSE(read_json(out + "/A/shift/seed0/metrics.json").contains("lr_search"));
  // config.json says the search was on and stores no rate for the searched network, so it can be given back.
  const nlohmann::json cfg = read_json(out + "/config.json");
  CHECK(cfg["search_lr"] == true);
  CHECK_FALSE(cfg["model_settings"]["mtae"].contains("lr"));
  CHECK(cfg["model_settings"]["mtae"]["batch_size"] == 64);
  char chosen[32];
  std::snprintf(chosen, sizeof chosen, "%g", argmin);
  const std::string md = read_text(out + "/table.md");
  CHECK_MESSAGE(contains(md, "mtae: 3e-05, 0.0001, 0.0003, 0.001; chose " + std::string(chosen) + "."), md);

  // train: a candidate is the recipe at its rate and nothing else. Training with --lr at the
  // largest grid rate gives that candidate's validation loss exactly (a CPU run is bit-reproducible).
  const Result searched = run(tmp, "train --data " + data + " --model mtae --epochs 3 --latent 4 --device cpu "
                                   "--search-lr --out " + tmp.file("t1"));
  REQUIRE_MESSAGE(searched.code == 0, searched.output);
  const nlohmann::json ts = read_json(tmp.file("t1/model/model.json"))["training"];
  REQUIRE(ts.contains("lr_search"));
  for (const auto& cand : ts["lr_search"]["candidates"])  // the saved model is the chosen candidate
    if (cand["lr"] == ts["lr_search"]["chosen_lr"]) CHECK(ts["best_val_loss"] == cand["best_val_loss"]);
  const Result fixed = run(tmp, "train --data " + data + " --model mtae --epochs 3 --latent 4 --device cpu "
                                "--lr 0.001 --out " + tmp.file("t2"));
  REQUIRE_MESSAGE(fixed.code == 0, fixed.output);
  const nlohmann::json tf = read_json(tmp.file("t2/model/model.json"))["training"];
  CHECK_FALSE(tf.contains("lr_search"));
  CHECK(tf["best_val_loss"].get<double>() ==
        doctest::Approx(ts["lr_search"]["candidates"][std::size_t{3}]["best_val_loss"].get<double>()).epsilon(1e-12));
}

TEST_CASE("predict_perturbation --search-lr with a learning rate given is refused naming both; --help lists the "
          "grids") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), out = tmp.file("run");
  write_data(data, standard_cells());
  check_refused(run(tmp, base_args(data, out, "A", "mtae,shift") + " --search-lr --lr 0.001"), out,
                {"--search-lr", "--lr", "give one of them"});
  std::ofstream(tmp.file("cfg.json")) << R"({"model_settings": {"mtae": {"lr": 0.001}}})";
  check_refused(run(tmp, "--config " + tmp.file("cfg.json") + " " + base_args(data, out, "A", "mtae") + " --search-lr"),
                out, {"--search-lr", "model_settings.mtae.lr"});
  check_refused(run(tmp, "train --data " + data + " --model scgen --device cpu --search-lr --lr 0.001 --out " + out),
                out, {"--search-lr", "--lr"});
  const Result help = run(tmp, "--help");
  CHECK(help.code == 0);
  CHECK_MESSAGE(contains(help.output, "--search-lr"), help.output);
  CHECK_MESSAGE(contains(help.output, "--search-lr grid: lr 0.0003, 0.001, 0.003"), help.output);    // scgen, mtae-fast
  CHECK_MESSAGE(contains(help.output, "--search-lr grid: lr 3e-05, 0.0001, 0.0003, 0.001"), help.output);  // mtae family
}

TEST_CASE("predict_perturbation --search-lr: the held-out type's perturbed cells are neither training nor validation "
          "cells, and its controls leave the validation cells") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad");
  write_data(data, standard_cells(), poisoned_value);
  auto trained = [&](const std::string& held_out, const std::string& out) {
    const Result r =
        run(tmp, base_args(data, out, held_out, "mtae-fast") + " --epochs 2 --latent 4 --search-lr");
    REQUIRE_MESSAGE(r.code == 0, r.output);
    return read_json(out + "/" + held_out + "/mtae-fast/seed0/metrics.json")["lr_search"];
  };
  // Held out A: the poisoned cells are the truth only. The choice saw B and C.
  const nlohmann::json a = trained("A", tmp.file("a"));
  CHECK(a["validation_types"] == nlohmann::json({"B", "C"}));
  // Held out B: the poisoned A cells are training and validation cells, and every loss shows it,
  // so the check below would fail if A's perturbed cells entered either set when A is held out.
  const nlohmann::json b = trained("B", tmp.file("b"));
  CHECK(b["validation_types"] == nlohmann::json({"A", "C"}));
  for (size_t k = 0; k < 3; ++k) {
    const double clean = a["candidates"][k]["best_val_loss"].get<double>();
    const double leaked = b["candidates"][k]["best_val_loss"].get<double>();
    INFO("lr " << a["candidates"][k]["lr"] << ": held out A " << clean << ", held out B " << leaked);
    CHECK(leaked > 10 * clean);
  }
  const double clean_train = history_column(tmp.file("a/A/mtae-fast/seed0/history.csv"), "train_loss").front();
  const double leaked_train = history_column(tmp.file("b/B/mtae-fast/seed0/history.csv"), "train_loss").front();
  CHECK(leaked_train > 10 * clean_train);
}
