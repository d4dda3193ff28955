// End-to-end tests of train_multitask's --model (mlp, scbutterfly) and count likelihoods
// (--distance NAME=nb|zinb): each model learns a translation the training mean cannot make, a
// saved model folder predicts the run's own translations again, and a count likelihood refuses
// values that are not counts with one line naming the modality.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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

// Two paired modalities of `n` cells in 3 groups: A (`a_features` continuous features, the
// first 8 the group's pattern plus noise, the others noise) and B (12 count features whose means depend on the group, with a library size
// that varies by cell). Only a model that reads A can predict B's group profile.
void write_paired(const std::string& a_path, const std::string& b_path, int n, double b_offset = 0,
                  bool b_integers = true, int a_features = 8) {
  uint64_t state = 12345;
  auto uniform = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  };
  cg::omics::DenseMatrix a(n, a_features), b(n, 12);
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    const int g = i % 3;
    names.push_back("c" + std::to_string(i));
    for (int j = 0; j < a_features; ++j)
      a(i, j) = static_cast<float>((j < 8 && j % 3 == g ? 2.0 : 0.0) + 0.3 * (uniform() - 0.5));
    const double library = 0.5 + uniform();
    for (int j = 0; j < 12; ++j) {
      const double mean = library * (j % 3 == g ? 30.0 : 3.0);
      // A Poisson-like draw by inversion (small means; deterministic).
      double u = uniform(), p = std::exp(-mean), cdf = p;
      int k = 0;
      while (u > cdf && k < 200) {
        ++k;
        p *= mean / k;
        cdf += p;
      }
      b(i, j) = static_cast<float>(k + b_offset + (b_integers ? 0.0 : 0.5));
    }
  }
  auto write = [&](const std::string& path, const cg::omics::DenseMatrix& x, const char* prefix) {
    cg::omics::AnnData d;
    d.X = cg::omics::Matrix::from(x);
    d.obs.index = names;
    for (int64_t j = 0; j < x.cols(); ++j) d.var.index.push_back(prefix + std::to_string(j));
    cg::omics::write_h5ad(path, d);
  };
  write(a_path, a, "a");
  write(b_path, b, "b");
}

double r2_of(const nlohmann::json& m, const std::string& dir) { return m["translation"][dir]["r2"].get<double>(); }
double mean_baseline(const nlohmann::json& m, const std::string& dir) {
  return m["baselines"]["mean"]["translation"][dir]["r2"].get<double>();
}

// Rows of two .h5ad files' X matched by obs name: the largest absolute difference (the files
// must hold the same features, in the same order).
double max_difference_by_name(const std::string& a_path, const std::string& b_path) {
  const cg::omics::AnnData a = cg::omics::read_h5ad(a_path), b = cg::omics::read_h5ad(b_path);
  REQUIRE(a.var.index == b.var.index);
  std::map<std::string, int64_t> row;
  for (size_t i = 0; i < b.obs.index.size(); ++i) row[b.obs.index[i]] = static_cast<int64_t>(i);
  const cg::omics::DenseMatrix x = a.X.to_dense(), y = b.X.to_dense();
  double worst = 0;
  for (size_t i = 0; i < a.obs.index.size(); ++i) {
    REQUIRE(row.count(a.obs.index[i]));
    worst = std::max(worst, static_cast<double>((x.row(static_cast<int64_t>(i)) - y.row(row[a.obs.index[i]]))
                                                    .cwiseAbs()
                                                    .maxCoeff()));
  }
  return worst;
}

}  // namespace

TEST_CASE(
    "train_multitask --model mlp|scbutterfly: Patch-seq RNA -> Ephys beats the training mean, the model's published "
    "defaults are recorded, and a reloaded model folder predicts the same translations") {
  if (!cg::test::have_app("train_multitask")) return;
  if (!cg::test::have_data(
          {"crossmodal/unitednet_patchseq_RNA_TEM.h5ad", "crossmodal/unitednet_patchseq_Ephys_TEM.h5ad"}))
    return;
  const std::string d = cg::test::data_path("crossmodal/unitednet_patchseq_");
  const std::string files =
      " --modality RNA=" + d + "RNA_TEM.h5ad --modality Ephys=" + d + "Ephys_TEM.h5ad --preprocess RNA=standardize ";
  struct Case {
    const char* model;
    const char* settings;
    double lr;
    int batch;
  };
  for (const Case& k : {Case{"mlp", "--epochs 40", 1e-3, 64},
                        Case{"scbutterfly", "--pretrain-epochs 10 --epochs 30 --hidden 128,64 --latent 32", 1e-3, 64}}) {
    CAPTURE(std::string(k.model));
    TempDir tmp;
    const std::string out = tmp.file("run"), saved = tmp.file("saved");
    const auto r = run(tmp, files + "--model " + std::string(k.model) + " " + k.settings +
                                " --seed 1 --device cpu --baselines mean --label-key cell_type_TEM --out " + out +
                                " --save-model " + saved);
    REQUIRE_MESSAGE(r.code == 0, r.output);
    const nlohmann::json m = cg::test::read_json(out + "/metrics.json");
    const double model_r2 = r2_of(m, "RNA_to_Ephys"), mean_r2 = mean_baseline(m, "RNA_to_Ephys");
    MESSAGE(std::string(k.model) << ": RNA_to_Ephys R^2 " << model_r2 << ", training mean " << mean_r2);
    CHECK(model_r2 > mean_r2 + 0.1);
    // Defaults the user did not give are the model's own; the ones given stay.
    const nlohmann::json cfg = cg::test::read_json(out + "/config.json");
    CHECK(cfg["model"] == k.model);
    CHECK(cfg["lr"].get<double>() == doctest::Approx(k.lr));
    CHECK(cfg["batch_size"].get<int>() == k.batch);
    CHECK(cfg["dropout"].get<double>() == doctest::Approx(0.1));
    if (std::string(k.model) == "scbutterfly") {
      CHECK(cfg["hidden"] == nlohmann::json({128, 64}));
      CHECK(cfg["patience"].get<int>() == 50);
      CHECK(fs::exists(out + "/pretrain_history.csv"));
      CHECK(fs::exists(out + "/latent.h5ad"));  // its latent: the mean of the modality latents
    } else {
      CHECK_FALSE(fs::exists(out + "/latent.h5ad"));  // no shared latent
    }
    // The saved folder, given the RNA file alone, reproduces the run's held-out translations.
    const std::string pred = tmp.file("pred");
    const auto p = cg::test::run_app("train_multitask", tmp,
                                     "predict --model " + saved + " --modality RNA=" + d +
                                         "RNA_TEM.h5ad --device cpu --out " + pred);
    REQUIRE_MESSAGE(p.code == 0, p.output);
    CHECK(max_difference_by_name(out + "/translated_RNA_to_Ephys.h5ad", pred + "/translations/RNA_to_Ephys.h5ad") ==
          0.0);
  }
}

TEST_CASE("train_multitask --distance NAME=nb|zinb: count likelihoods learn the counts, for every model") {
  if (!cg::test::have_app("train_multitask")) return;
  TempDir tmp;
  // scbutterfly's KL weight is 20 / (features of the first modality): 8 would collapse its latents.
  const std::string a = tmp.file("a.h5ad"), wide = tmp.file("a_wide.h5ad"), b = tmp.file("b.h5ad");
  write_paired(wide, b, 240, 0, true, 200);
  write_paired(a, b, 240);
  struct Case {
    const char* model;
    const char* distance;
    const char* settings;
  };
  for (const Case& k : {Case{"mlp", "nb", "--epochs 40"}, Case{"unitednet", "zinb", "--epochs 60 --no-discriminator"},
                        Case{"scbutterfly", "nb",
                             "--pretrain-epochs 20 --epochs 100 --batch-size 16 --lr 0.003 --hidden 64,32 --latent 16"}}) {
    CAPTURE(std::string(k.model));
    CAPTURE(std::string(k.distance));
    const std::string a_file = std::string(k.model) == "scbutterfly" ? wide : a;
    const std::string out = tmp.file(std::string("run_") + k.model), saved = out + "_model";
    const auto r = run(tmp, "--modality A=" + a_file + " --modality B=" + b + " --preprocess B=log1p --distance B=" +
                                k.distance + " --model " + k.model + " " + k.settings +
                                " --seed 2 --device cpu --baselines mean,ridge_pca --out " + out + " --save-model " +
                                saved);
    REQUIRE_MESSAGE(r.code == 0, r.output);
    const nlohmann::json m = cg::test::read_json(out + "/metrics.json");
    // Scored on B's log1p scale, like the baseline: the group profile is learned from A.
    const double model_r2 = r2_of(m, "A_to_B"), mean_r2 = mean_baseline(m, "A_to_B");
    const double ridge_r2 = m["baselines"]["ridge_pca"]["translation"]["A_to_B"]["r2"].get<double>();
    MESSAGE(std::string(k.model) << " " << std::string(k.distance) << ": A_to_B R^2 " << model_r2 << ", training mean " << mean_r2 << ", ridge "
                    << ridge_r2);
    // Poisson noise caps what any model explains (ridge, near the ceiling here, reaches ~0.45).
    CHECK(model_r2 > 0.35);
    CHECK(model_r2 > ridge_r2 - 0.15);
    CHECK(mean_r2 < 0.05);
    // The model folder records the likelihood; predict writes mean counts and scores them on log1p.
    const nlohmann::json model = cg::test::read_json(saved + "/model.json");
    CHECK(model["spec"]["likelihood"] == nlohmann::json({"mse", k.distance}));
    CHECK(model["spec"]["library"][1].get<double>() > 10);
    const std::string pred = out + "_pred";
    const auto p = cg::test::run_app("train_multitask", tmp,
                                     "predict --model " + saved + " --modality A=" + a_file + " --modality B=" + b +
                                         " --device cpu --out " + pred);
    REQUIRE_MESSAGE(p.code == 0, p.output);
    const nlohmann::json pm = cg::test::read_json(pred + "/metrics.json");
    CHECK(pm["translation"]["A_to_B"]["r2"].get<double>() > 0.35);
    const cg::omics::AnnData t = cg::omics::read_h5ad(pred + "/translations/A_to_B.h5ad");
    CHECK(t.X.to_dense().minCoeff() >= 0);
    CHECK(t.X.to_dense().maxCoeff() > 10);  // counts, not log1p values
  }
}

TEST_CASE("train_multitask --distance NAME=nb|zinb: values that are not counts are refused in one line") {
  if (!cg::test::have_app("train_multitask")) return;
  TempDir tmp;
  struct Case {
    double offset;
    bool integers;
    const char* distance;
    const char* what;
  };
  // Cell c0's first count is k + offset for a small draw k (see write_paired).
  for (const Case& k : {Case{0, false, "nb", "non-integer"}, Case{-1000, true, "zinb", "negative"}}) {
    CAPTURE(k.distance);
    const std::string a = tmp.file("a.h5ad"), b = tmp.file("b.h5ad"), out = tmp.file("out");
    write_paired(a, b, 30, k.offset, k.integers);
    const auto r = run(tmp, "--modality A=" + a + " --modality B=" + b + " --distance B=" + k.distance +
                                " --model mlp --epochs 2 --out " + out);
    CHECK(r.code != 0);
    const std::string head = "train_multitask: error: --distance B=" + std::string(k.distance) + ": modality 'B' (" + b + ") has " +
                             k.what + " values (";
    const std::string tail =
        " for cell 'c0', feature 'b0'); a count likelihood needs raw counts; use --distance B=mse\n";
    CHECK_MESSAGE(r.output.rfind(head, 0) == 0, r.output);  // the whole output is that one line
    CHECK_MESSAGE(r.output.size() > tail.size(), r.output);
    CHECK_MESSAGE(r.output.compare(r.output.size() - tail.size(), tail.size(), tail) == 0, r.output);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(out));
  }
  // Settings a count likelihood cannot work with are refused before any data is read.
  const auto r = run(tmp, "--modality A=x.h5ad --modality B=y.h5ad --distance B=nb --top-features B=5 --out " +
                              tmp.file("o"));
  CHECK(r.code != 0);
  CHECK_MESSAGE(r.output.find("--top-features B cannot be combined with it") != std::string::npos, r.output);
}
