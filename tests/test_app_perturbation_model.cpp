// The model lifecycle of predict_perturbation: `train` saves a model folder, `predict` applies
// it to new cells. On Kang, a saved scGen model reproduces the benchmark's held-out prediction
// bit for bit, and predicts a cell type that has no perturbed cells at all. On small synthetic
// files, every broken model folder and every bad input of `predict` is one clear error line,
// a non-zero exit and no output folder.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/common/model_folder.h"
#include "omics/anndata.h"
#include "omics/metrics_regression.h"
#include "tests/predict_perturbation_fixtures.h"
#include "tests/test_paths.h"

using namespace cg::test::perturb;
namespace fs = std::filesystem;

using cg::test::read_json;
using cg::test::write_json;

namespace {

cg::omics::DenseMatrix X_of(const std::string& h5ad) { return cg::omics::read_h5ad(h5ad).dense_X(); }

// A copy of `dir` whose manifest is re-sealed after `edit` changed it, so that only the
// checks behind the checksums can catch the change.
std::string edited_model(const TempDir& tmp, const std::string& dir, const std::string& name,
                         const std::function<void(const std::string&)>& edit, bool reseal) {
  const std::string copy = tmp.file(name);
  fs::copy(dir, copy, fs::copy_options::recursive);
  edit(copy);
  if (reseal) {
    std::vector<std::string> files;
    const nlohmann::json manifest = read_json(copy + "/manifest.json");
    for (auto it = manifest["files"].begin(); it != manifest["files"].end(); ++it) files.push_back(it.key());
    cg::apps::seal_model_folder(copy, "predict_perturbation", files);
  }
  return copy;
}

}  // namespace

TEST_CASE(
    "predict_perturbation train + predict on Kang: the benchmark's prediction, bit for bit, and a type with no "
    "perturbed cells") {
  const std::string kang_rel = "perturbation/kang_scgen_valid_lognorm.h5ad";
  if (!have_binary() || !cg::test::have_data({kang_rel})) return;
  const std::string kang = cg::test::data_path(kang_rel);
  TempDir tmp;
  const std::string eval = " --seed 0 --epochs 2 --device cpu --bootstrap 5 --pca-components 10";
  // The benchmark holds CD4T out: it trains on every cell but CD4T's stimulated ones.
  const Result bench =
      run(tmp, "--data " + kang + " --held-out CD4T --models scgen" + eval + " --out " + tmp.file("bench"));
  REQUIRE_MESSAGE(bench.code == 0, bench.output);
  // The same training cells as a file of their own: Kang without CD4T's stimulated cells.
  cg::omics::AnnData a = cg::omics::read_h5ad(kang);
  const auto types = a.obs.labels("cell_type"), conds = a.obs.labels("condition");
  std::vector<int64_t> kept, dropped;
  for (size_t i = 0; i < types.size(); ++i)
    (types[i] == "CD4T" && conds[i] == "stimulated" ? dropped : kept).push_back(static_cast<int64_t>(i));
  cg::omics::ReadOptions subset;
  subset.rows = kept;
  cg::omics::write_h5ad(tmp.file("no_cd4t_stim.h5ad"), cg::omics::read_h5ad(kang, subset));

  const Result train = run(tmp, "train --data " + tmp.file("no_cd4t_stim.h5ad") + " --model scgen" + eval + " --out " +
                                    tmp.file("train") + " --save-model " + tmp.file("saved"));
  REQUIRE_MESSAGE(train.code == 0, train.output);
  for (const std::string f : {"model/manifest.json", "model/config.json", "model/model.json", "model/weights.h5",
                              "latent.h5ad", "history.csv", "config.json"})
    CHECK_MESSAGE(fs::exists(tmp.file("train/" + f)), f);
  CHECK(cg::apps::open_model_folder(tmp.file("saved"), "predict_perturbation").model["genes"].size() == 6998);

  SUBCASE("predict on the full file: the benchmark's matrix and metrics") {
    const Result pr = run(tmp, "predict --model " + tmp.file("train/model") + " --data " + kang +
                                   " --cell-type CD4T --device cpu --out " + tmp.file("pred"));
    REQUIRE_MESSAGE(pr.code == 0, pr.output);
    const auto bench_X = X_of(tmp.file("bench/CD4T/scgen/seed0/predicted.h5ad"));
    const auto pred = cg::omics::read_h5ad(tmp.file("pred/predicted.h5ad"));
    REQUIRE(pred.dense_X().rows() == bench_X.rows());
    CHECK(pred.dense_X() == bench_X);  // bit-identical
    CHECK(pred.obsm.at("X_latent").cols() == 100);
    CHECK(pred.obs.labels("source_cell").front().find("-control") != std::string::npos);
    const auto bench_m = read_json(tmp.file("bench/CD4T/scgen/seed0/metrics.json"));
    const auto pred_m = read_json(tmp.file("pred/metrics.json"))["cell_types"]["CD4T"];
    CHECK(pred_m["seen_perturbed_in_training"] == false);
    for (const char* k : {"r2_all", "r2_top", "common_degs", "e_distance_ratio", "r2_all_boot_std"})
      CHECK_MESSAGE(pred_m["metrics"][k] == bench_m[k], k);
    CHECK(cg::omics::read_h5ad(tmp.file("pred/latent.h5ad")).obsm.at("X_latent").rows() == 1975);
  }
  SUBCASE("predict a type that has no perturbed cells in the file: no metrics, and the dropped cells score it") {
    const Result pr = run(tmp, "predict --model " + tmp.file("saved") + " --data " + tmp.file("no_cd4t_stim.h5ad") +
                                   " --cell-type CD4T --to stimulated --device cpu --out " + tmp.file("pred"));
    REQUIRE_MESSAGE(pr.code == 0, pr.output);
    CHECK(contains(pr.output, "note: CD4T: 278 cells predicted; no metrics: the file has 0 real 'stimulated' cell(s)"));
    const auto m = read_json(tmp.file("pred/metrics.json"))["cell_types"]["CD4T"];
    CHECK(m["metrics"].is_null());
    CHECK(m.contains("no_metrics_because"));
    // Scored here against the cells that were dropped from the file: the benchmark's R^2.
    cg::omics::ReadOptions real;
    real.rows = dropped;
    const double r2 =
        cg::omics::r2_of_means(X_of(tmp.file("pred/predicted.h5ad")), cg::omics::read_h5ad(kang, real).dense_X());
    CHECK(r2 == read_json(tmp.file("bench/CD4T/scgen/seed0/metrics.json"))["r2_all"].get<double>());
  }
}

TEST_CASE("predict_perturbation predict: broken model folders and bad inputs are one clear line, no output") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), model = tmp.file("train/model"), out = tmp.file("pred");
  write_data(data, standard_cells());
  const Result train = run(
      tmp, "train --data " + data + " --model scgen --epochs 1 --latent 4" + kCheap + " --out " + tmp.file("train"));
  REQUIRE_MESSAGE(train.code == 0, train.output);
  const std::string predict = "predict --device cpu --out " + out + " --data " + data + " --model ";
  const Result ok = run(tmp, predict + model);
  REQUIRE_MESSAGE(ok.code == 0, ok.output);
  CHECK(read_json(out + "/metrics.json")["cell_types"]["B"]["metrics"]["r2_all"].is_number());
  fs::remove_all(out);

  SUBCASE("a missing file") {
    const std::string m = edited_model(
        tmp, model, "m1", [](const std::string& d) { fs::remove(d + "/model.json"); }, false);
    check_refused(run(tmp, predict + m), out, {"--model " + m, "model.json is missing"});
    check_refused(run(tmp, predict + tmp.file("nowhere")), out, {"expected a model folder, found nothing"});
  }
  SUBCASE("a newer format version") {
    const std::string m = edited_model(
        tmp, model, "m2",
        [](const std::string& d) {
          auto j = read_json(d + "/manifest.json");
          j["format_version"] = 99;
          write_json(d + "/manifest.json", j);
        },
        false);
    check_refused(run(tmp, predict + m), out, {"model format version 99", "is newer than this cellgrad"});
  }
  SUBCASE("altered or truncated weights") {
    const std::string m = edited_model(
        tmp, model, "m3",
        [](const std::string& d) {
          std::fstream f(d + "/weights.h5", std::ios::in | std::ios::out | std::ios::binary);
          f.seekp(-100, std::ios::end);
          f.put('\x5a');
        },
        false);
    check_refused(run(tmp, predict + m), out, {"weights.h5 does not match its SHA-256 checksum"});
    const std::string t = edited_model(
        tmp, model, "m4", [](const std::string& d) { fs::resize_file(d + "/weights.h5", 1000); }, false);
    check_refused(run(tmp, predict + t), out, {"weights.h5 has 1000 bytes, the manifest says"});
  }
  SUBCASE("a config that disagrees with the weights' shapes") {
    const std::string m = edited_model(
        tmp, model, "m5",
        [](const std::string& d) {
          auto j = read_json(d + "/config.json");
          j["latent"] = 6;
          write_json(d + "/config.json", j);
        },
        true);
    check_refused(run(tmp, predict + m), out, {"the weights do not fit the model"});
  }
  SUBCASE("new data whose genes do not overlap, or only partly") {
    write_data(tmp.file("other.h5ad"), standard_cells());
    cg::omics::AnnData a = cg::omics::read_h5ad(tmp.file("other.h5ad"));
    for (auto& g : a.var.index) g = "x" + g;
    cg::omics::write_h5ad(tmp.file("other.h5ad"), a);
    check_refused(
        run(tmp, "predict --device cpu --out " + out + " --model " + model + " --data " + tmp.file("other.h5ad")), out,
        {"none of the model's 20 genes is in the file"});
    for (size_t j = 0; j < 15; ++j) a.var.index[j] = a.var.index[j].substr(1);
    cg::omics::write_h5ad(tmp.file("other.h5ad"), a);
    const std::string partial =
        "predict --device cpu --out " + out + " --model " + model + " --data " + tmp.file("other.h5ad");
    check_refused(run(tmp, partial), out,
                  {"5 of the model's 20 genes are missing from the file", "'g15'", "--fill-missing zeros"});
    const Result filled = run(tmp, partial + " --fill-missing zeros");
    CHECK_MESSAGE(filled.code == 0, filled.output);
    CHECK(contains(filled.output, "15 of the model's 20 genes found; the other 5 are set to 0"));
    CHECK(contains(read_text(out + "/warnings.txt"), "the other 5 are set to 0"));
  }
  SUBCASE("a cell type absent from the file, a --to value the model never saw, a missing layer, raw counts") {
    check_refused(run(tmp, predict + model + " --cell-type Z"), out,
                  {"--cell-type 'Z' is not in obs 'cell_type'", "types present: A, B, C"});
    check_refused(run(tmp, predict + model + " --to ifn"), out, {"--to 'ifn': the model was trained on 'stim' only"});
    check_refused(run(tmp, predict + model + " --layer counts"), out,
                  {"--layer 'counts' does not exist; layers present: none"});
    write_data(tmp.file("counts.h5ad"), standard_cells(), [](int64_t i, int j, const std::string&, const std::string&) {
      return static_cast<float>((i * 13 + j * 7) % 51);
    });
    check_refused(
        run(tmp, "predict --device cpu --out " + out + " --model " + model + " --data " + tmp.file("counts.h5ad")), out,
        {"looks like raw counts", "--preprocess log1p"});
    check_refused(run(tmp, predict + model + " --epochs 3"), out,
                  {"arguments were not expected: 3 --epochs", "(see --help)"});
  }
  SUBCASE("an earlier model is not overwritten without --overwrite") {
    const Result again = run(
        tmp, "train --data " + data + " --model scgen --epochs 1 --latent 4" + kCheap + " --out " + tmp.file("train"));
    CHECK(again.code != 0);
    CHECK(contains(again.output, "already holds a run"));
    CHECK_NOTHROW(cg::apps::open_model_folder(model, "predict_perturbation"));
  }
}

TEST_CASE("predict_perturbation train --resume: an scGen run killed at epoch 30 ends exactly as one left alone") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad");
  write_data(data, standard_cells());
  const std::string args = "train --data " + data + " --model scgen --epochs 45 --patience 100 --latent 4" + kCheap +
                           " --checkpoint-every 10";
  const Result alone = run(tmp, args + " --out " + tmp.file("alone"));
  REQUIRE_MESSAGE(alone.code == 0, alone.output);
  CHECK_FALSE(fs::exists(tmp.file("alone.checkpoints")));

  ::setenv("CELLGRAD_TEST_KILL_AFTER_EPOCH", "30", 1);
  const Result killed = run(tmp, args + " --out " + tmp.file("run"));
  ::unsetenv("CELLGRAD_TEST_KILL_AFTER_EPOCH");
  REQUIRE_MESSAGE(killed.code == 137, killed.output);
  CHECK_FALSE(fs::exists(tmp.file("run")));
  check_refused(run(tmp, args + " --out " + tmp.file("run")), tmp.file("run"),
                {"holds the checkpoints of an interrupted run; continue it with --resume"});
  const Result resumed = run(tmp, "train --resume " + tmp.file("run"));
  REQUIRE_MESSAGE(resumed.code == 0, resumed.output);
  CHECK_FALSE(fs::exists(tmp.file("run.checkpoints")));
  // The fitted response (scGen's latent shift, from the final weights) and the whole history.
  auto model = [&](const std::string& dir) { return read_json(dir + "/model/model.json"); };
  CHECK(model(tmp.file("alone"))["responses"] == model(tmp.file("run"))["responses"]);
  CHECK(model(tmp.file("alone"))["training"]["best_epoch"] == model(tmp.file("run"))["training"]["best_epoch"]);
  // history.csv: epoch, train_<term>..., val_loss (no wall-clock column), so it compares whole.
  CHECK(read_text(tmp.file("alone") + "/history.csv") == read_text(tmp.file("run") + "/history.csv"));
  CHECK(read_text(tmp.file("run") + "/history.csv").find("\n45,") != std::string::npos);
}
