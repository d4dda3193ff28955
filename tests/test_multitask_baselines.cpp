// train_multitask's baseline rows and per-direction metrics, end to end through the binary: a
// short Patch-seq run writes mean / ridge_pca / knn_pca rows beside the model's in metrics.json,
// metrics.csv and table.md; a binary target gets peak_frequency and the ranking metrics; control
// features are scored apart; an ablation scores the baselines once per split; bad baseline and
// control settings are refused with one line and leave nothing behind.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "omics/anndata.h"
#include "test_omics_io_util.h"
#include "test_paths.h"
#include "tests/app_runner.h"

namespace fs = std::filesystem;
using cg::test::TempDir;

namespace {

cg::test::AppResult run(const TempDir& tmp, const std::string& args) {
  return cg::test::run_app("train_multitask", tmp, args);
}

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A small dense modality: cells c0.., features f0.., values from a fixed formula (a second
// modality shares part of the signal so that translation has something to learn).
void write_modality(const std::string& path, int cells, int features, int salt,
                    const std::vector<std::string>& uns_controls = {}) {
  cg::omics::AnnData a;
  cg::omics::DenseMatrix x(cells, features);
  for (int i = 0; i < cells; ++i)
    for (int j = 0; j < features; ++j) x(i, j) = static_cast<float>((i * (7 + salt) + j * 3 + (i % 5) * j) % 11) / 5.0f;
  a.X = cg::omics::Matrix::from(x);
  std::vector<std::string> types;
  for (int i = 0; i < cells; ++i) {
    a.obs.index.push_back("c" + std::to_string(i));
    types.push_back("type" + std::to_string(i % 3));
  }
  a.obs.set("type", cg::omics::Column::categorical(types));
  for (int j = 0; j < features; ++j) a.var.index.push_back("f" + std::to_string(j));
  if (!uns_controls.empty()) {
    cg::omics::UnsValue v;
    v.type = cg::omics::UnsValue::Type::String;
    v.scalar = false;
    v.strings = uns_controls;
    a.uns["control_features"] = v;
  }
  cg::omics::write_h5ad(path, a);
}

}  // namespace

TEST_CASE("train_multitask baselines: a short Patch-seq run writes the baseline rows beside the model's") {
  if (!cg::test::have_app("train_multitask")) return;
  if (!cg::test::have_data(
          {"crossmodal/unitednet_patchseq_RNA_TEM.h5ad", "crossmodal/unitednet_patchseq_Ephys_TEM.h5ad"}))
    return;
  const std::string d = cg::test::data_path("crossmodal/unitednet_patchseq_");
  TempDir tmp;
  const std::string out = tmp.file("ps");
  const auto r = run(tmp, "--modality RNA=" + d + "RNA_TEM.h5ad --modality Ephys=" + d +
                              "Ephys_TEM.h5ad --preprocess RNA=standardize --label-key cell_type_TEM "
                              "--no-discriminator --epochs 8 --seed 1 --device cpu --out " +
                              out);
  REQUIRE_MESSAGE(r.code == 0, r.output);
  CHECK(r.output.find("baselines (same cells, preprocessing and metrics)") != std::string::npos);
  const nlohmann::json m = cg::test::read_json(out + "/metrics.json");
  for (const char* key : {"r2", "pearson", "r2_per_cell", "pearson_per_cell"})
    CHECK_MESSAGE(m["translation"]["RNA_to_Ephys"].contains(key), key);
  const auto& b = m["baselines"];
  CHECK_FALSE(b.contains("peak_frequency"));  // no binary target
  for (const char* name : {"mean", "ridge_pca", "knn_pca"}) {
    INFO(name);
    REQUIRE(b.contains(name));
    for (const char* dir : {"RNA_to_Ephys", "Ephys_to_RNA"})
      for (const char* key : {"r2", "pearson", "r2_per_cell", "pearson_per_cell"})
        CHECK(b[name]["translation"][dir].contains(key));
  }
  // The mean predicts R^2 ~ 0 (slightly below: training and test means differ); ridge on the RNA's
  // components explains part of the electrophysiology (about 0.3 on held-out cells).
  const double mean_r2 = b["mean"]["translation"]["RNA_to_Ephys"]["r2"].get<double>();
  const double ridge_r2 = b["ridge_pca"]["translation"]["RNA_to_Ephys"]["r2"].get<double>();
  MESSAGE("RNA -> Ephys R^2: mean " << mean_r2 << ", ridge_pca " << ridge_r2 << ", knn_pca "
                                    << b["knn_pca"]["translation"]["RNA_to_Ephys"]["r2"].get<double>() << ", model "
                                    << m["translation"]["RNA_to_Ephys"]["r2"].get<double>());
  CHECK(mean_r2 < 0.01);
  CHECK(mean_r2 > -0.1);
  CHECK(ridge_r2 > 0.15);
  const auto& chosen = b["ridge_pca"]["translation"]["RNA_to_Ephys"]["chosen"];
  CHECK(std::set<int>{10, 20, 50, 100}.count(chosen["components"].get<int>()) == 1);
  CHECK(chosen.contains("alpha"));
  CHECK(b["knn_pca"]["translation"]["RNA_to_Ephys"]["chosen"].contains("k"));
  // The CSV and the table carry the same rows, labelled as baselines.
  CHECK(read_text(out + "/metrics.csv").find("baselines.ridge_pca.translation.RNA_to_Ephys.r2,") != std::string::npos);
  const std::string table = read_text(out + "/table.md");
  for (const char* row :
       {"| multitask | 1 |", "| baseline: mean | 1 |", "| baseline: ridge_pca | 1 |", "| baseline: knn_pca | 1 |"})
    CHECK_MESSAGE(table.find(row) != std::string::npos, row);
  CHECK(table.find("RNA_to_Ephys.r2_per_cell") != std::string::npos);
}

TEST_CASE(
    "train_multitask baselines: binary targets get peak_frequency and AUROC / AUPRC per cell and per peak; "
    "an ablation scores the baselines once per split") {
  if (!cg::test::have_app("train_multitask")) return;
  TempDir tmp;
  write_modality(tmp.file("a.h5ad"), 60, 12, 0);
  write_modality(tmp.file("b.h5ad"), 60, 9, 2);
  const std::string base = "--modality A=" + tmp.file("a.h5ad") + " --modality B=" + tmp.file("b.h5ad") +
                           " --distance B=bce --epochs 2 --batch-size 16 --no-discriminator --device cpu";
  const auto r = run(tmp, base + " --out " + tmp.file("bin"));
  REQUIRE_MESSAGE(r.code == 0, r.output);
  const nlohmann::json m = cg::test::read_json(tmp.file("bin/metrics.json"));
  for (const char* key : {"auroc_per_cell", "auprc_per_cell", "auroc_per_peak", "auprc_per_peak"}) {
    INFO(key);
    CHECK(m["translation"]["A_to_B"].contains(key));
    CHECK(m["baselines"]["peak_frequency"]["translation"]["A_to_B"].contains(key));
  }
  // peak_frequency only scores binary targets, mean only continuous ones.
  CHECK_FALSE(m["baselines"]["peak_frequency"]["translation"].contains("B_to_A"));
  CHECK(m["baselines"]["mean"]["translation"].contains("B_to_A"));
  CHECK_FALSE(m["baselines"]["mean"]["translation"].contains("A_to_B"));
  // A constant ranking of the cells: every peak's AUROC over the cells is one half.
  CHECK(m["baselines"]["peak_frequency"]["translation"]["A_to_B"]["auroc_per_peak"].get<double>() ==
        doctest::Approx(0.5));
  CHECK(m["baselines"]["ridge_pca"]["translation"]["A_to_B"]["chosen"].contains("validation_auroc_per_cell"));

  const auto a = run(tmp, base + " --folds 2 --ablation multitask,translation_only --out " + tmp.file("abl"));
  REQUIRE_MESSAGE(a.code == 0, a.output);
  for (const char* f : {"baselines/fold0/metrics.json", "baselines/fold1/metrics.csv"})
    CHECK_MESSAGE(fs::exists(tmp.file("abl/") + f), f);
  const std::string table = read_text(tmp.file("abl/table.md"));
  for (const char* row : {"| translation_only | 2 |", "| baseline: peak_frequency | 2 |", "| baseline: knn_pca | 2 |"})
    CHECK_MESSAGE(table.find(row) != std::string::npos, row);
  // --baselines none: the model's rows only.
  const auto n = run(tmp, base + " --baselines none --out " + tmp.file("none"));
  REQUIRE_MESSAGE(n.code == 0, n.output);
  CHECK(cg::test::read_json(tmp.file("none/metrics.json"))["baselines"].empty());
}

TEST_CASE("train_multitask baselines: control features are left out of the means and scored apart") {
  if (!cg::test::have_app("train_multitask")) return;
  TempDir tmp;
  write_modality(tmp.file("a.h5ad"), 40, 10, 0);
  write_modality(tmp.file("b.h5ad"), 40, 6, 2);
  write_modality(tmp.file("u.h5ad"), 40, 6, 2, {"f5"});
  const std::string a = "--modality A=" + tmp.file("a.h5ad");
  const std::string common = " --epochs 2 --batch-size 16 --no-discriminator --device cpu --baselines mean";

  SUBCASE("named by the flag") {
    const auto r = run(tmp, a + " --modality B=" + tmp.file("b.h5ad") + common + " --control-features B=f1,f4 --out " +
                                tmp.file("ctl"));
    REQUIRE_MESSAGE(r.code == 0, r.output);
    const nlohmann::json m = cg::test::read_json(tmp.file("ctl/metrics.json"));
    for (const auto* t : {&m["translation"]["A_to_B"], &m["baselines"]["mean"]["translation"]["A_to_B"]}) {
      CHECK((*t)["control_features"] == nlohmann::json::array({"f1", "f4"}));
      CHECK((*t)["controls"].contains("r2"));
      CHECK((*t)["controls"].contains("pearson"));
    }
    // Directions into A have no controls.
    CHECK_FALSE(m["translation"]["B_to_A"].contains("controls"));
  }
  SUBCASE("read from the file's uns['control_features']") {
    const auto r = run(tmp, a + " --modality B=" + tmp.file("u.h5ad") + common + " --out " + tmp.file("uns"));
    REQUIRE_MESSAGE(r.code == 0, r.output);
    const nlohmann::json m = cg::test::read_json(tmp.file("uns/metrics.json"));
    CHECK(m["translation"]["A_to_B"]["control_features"] == nlohmann::json::array({"f5"}));
  }
  SUBCASE("an absent control is one clear line, a non-zero exit and no output") {
    const auto r = run(tmp, a + " --modality B=" + tmp.file("b.h5ad") + common +
                                " --control-features B=f1,IgG9 --out " + tmp.file("bad"));
    CHECK(r.code != 0);
    CHECK_MESSAGE(r.output.find("--control-features B: 'IgG9' is not a feature of modality 'B'") != std::string::npos,
                  r.output);
    CHECK_FALSE(fs::exists(tmp.file("bad")));
  }
  SUBCASE("a modality that is not given") {
    const auto r = run(tmp, a + " --modality B=" + tmp.file("b.h5ad") + common + " --control-features ADT=IgG1 --out " +
                                tmp.file("bad2"));
    CHECK(r.code != 0);
    CHECK(r.output.find("--control-features: 'ADT' is not a modality given with --modality") != std::string::npos);
    CHECK_FALSE(fs::exists(tmp.file("bad2")));
  }
}

TEST_CASE("train_multitask baselines: ridge asked for more components than training cells is refused") {
  if (!cg::test::have_app("train_multitask")) return;
  TempDir tmp;
  write_modality(tmp.file("a.h5ad"), 30, 60, 0);
  write_modality(tmp.file("b.h5ad"), 30, 6, 2);
  const std::string base = "--modality A=" + tmp.file("a.h5ad") + " --modality B=" + tmp.file("b.h5ad") +
                           " --epochs 2 --batch-size 16 --device cpu";
  const auto r = run(tmp, base + " --baseline-components 5,40 --out " + tmp.file("big"));
  CHECK(r.code != 0);
  CHECK_MESSAGE(r.output.find("--baseline-components 40: ridge_pca and knn_pca need more training cells than "
                              "principal components, but holdout has") != std::string::npos,
                r.output);
  CHECK_FALSE(fs::exists(tmp.file("big")));
  const auto u = run(tmp, base + " --baselines mean,lasso --out " + tmp.file("unk"));
  CHECK(u.code != 0);
  CHECK_MESSAGE(u.output.find("--baselines: unknown baseline") != std::string::npos, u.output);
  CHECK_FALSE(fs::exists(tmp.file("unk")));
}
