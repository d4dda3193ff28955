// Saved train_multitask models: the model folder a run writes (model/, --save-model DIR) and
// `train_multitask predict`, which applies it to new cells. End to end through the built binary
// (apps are not linked into the test binary; see app_runner.h): a Patch-seq round trip that must
// reproduce the training run's own outputs bit for bit, and the refusals of a damaged or
// mismatched model folder and of unusable input, on small synthetic files.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "apps/common/matrix_bridge.h"
#include "apps/common/model_folder.h"
#include "omics/anndata.h"
#include "test_omics_io_util.h"
#include "test_paths.h"
#include "tests/app_runner.h"

namespace fs = std::filesystem;
using cg::test::TempDir;

using cg::test::read_json;
using cg::test::write_json;

namespace {

using Result = cg::test::AppResult;

Result run(const TempDir& tmp, const std::string& args) { return cg::test::run_app("train_multitask", tmp, args); }

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A small dense modality: `cells` cells c0.., deterministic non-integer values, obs "type" with
// `types` classes, features named <prefix>0...
void write_modality(const std::string& path, int cells, int features, int types, const std::string& prefix = "f") {
  cg::omics::AnnData a;
  cg::omics::DenseMatrix x(cells, features);
  for (int i = 0; i < cells; ++i)
    for (int j = 0; j < features; ++j) x(i, j) = static_cast<float>((i * 7 + j * 3) % 11) / 5.0f + 0.1f * (i % types);
  a.X = cg::omics::Matrix::from(x);
  std::vector<std::string> t;
  for (int i = 0; i < cells; ++i) {
    a.obs.index.push_back("c" + std::to_string(i));
    t.push_back("type" + std::to_string(i % types));
  }
  a.obs.set("type", cg::omics::Column::categorical(t));
  for (int j = 0; j < features; ++j) a.var.index.push_back(prefix + std::to_string(j));
  cg::omics::write_h5ad(path, a);
}

// The cells `names` of an .h5ad file (rows in that order), written to `out`; without obs
// columns when `keep_obs` is false.
void write_cells(const std::string& in, const std::vector<std::string>& names, const std::string& out,
                 bool keep_obs = true) {
  const cg::omics::AnnData a = cg::omics::read_h5ad(in);
  std::map<std::string, int64_t> row;
  for (size_t i = 0; i < a.obs.index.size(); ++i) row[a.obs.index[i]] = static_cast<int64_t>(i);
  std::vector<int64_t> rows;
  for (const auto& n : names) rows.push_back(row.at(n));
  cg::omics::AnnData b;
  b.X = cg::omics::Matrix::from(cg::apps::take_rows(a.X.to_dense(), rows));
  b.obs = a.obs.take(rows);
  if (!keep_obs) {
    b.obs.columns.clear();
    b.obs.column_order.clear();
  }
  b.var = a.var;
  cg::omics::write_h5ad(out, b);
}

// Cells of one split (split.csv of a run: cell,row,split).
std::vector<std::string> cells_of(const std::string& split_csv, const std::string& which) {
  std::ifstream f(split_csv);
  std::string line;
  std::getline(f, line);
  std::vector<std::string> out;
  while (std::getline(f, line))
    if (line.substr(line.rfind(',') + 1) == which) out.push_back(line.substr(0, line.find(',')));
  return out;
}

// Row of each obs name.
std::map<std::string, int64_t> rows_by_name(const cg::omics::AnnData& a) {
  std::map<std::string, int64_t> m;
  for (size_t i = 0; i < a.obs.index.size(); ++i) m[a.obs.index[i]] = static_cast<int64_t>(i);
  return m;
}

// An app error: a non-zero exit, exactly one line "train_multitask: error: ..." holding every
// part of `expected`, and no output folder (nor a staging folder beside it, by either naming
// RunFolder has used).
void check_refused(const Result& r, const std::vector<std::string>& expected, const TempDir& tmp,
                   const std::string& out) {
  INFO(r.output);
  CHECK(r.code != 0);
  CHECK(r.output.rfind("train_multitask: error: ", 0) == 0);
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  for (const auto& e : expected) CHECK_MESSAGE(r.output.find(e) != std::string::npos, e);
  CHECK_FALSE(fs::exists(out));
  for (const auto& e : fs::directory_iterator(tmp.path)) {
    const std::string name = e.path().filename().string();
    CHECK_MESSAGE(name.find(".cellgrad-") == std::string::npos, name);  // staging, set-aside run, lock
  }
}

bool have_binary() { return cg::test::have_app("train_multitask"); }

}  // namespace

TEST_CASE(
    "train_multitask predict: a saved Patch-seq model reproduces its training run's translations, latents and "
    "classes bit for bit") {
  if (!have_binary()) return;
  if (!cg::test::have_data({"crossmodal/unitednet_patchseq_RNA_TEM.h5ad",
                            "crossmodal/unitednet_patchseq_Ephys_TEM.h5ad",
                            "crossmodal/unitednet_patchseq_Morph_TEM.h5ad"}))
    return;
  const std::string d = cg::test::data_path("crossmodal/unitednet_patchseq_");
  const std::string rna = d + "RNA_TEM.h5ad", ephys = d + "Ephys_TEM.h5ad", morph = d + "Morph_TEM.h5ad";
  TempDir tmp;
  const std::string out = tmp.file("train");
  const Result r = run(tmp, "--modality RNA=" + rna + " --modality Ephys=" + ephys + " --modality Morph=" + morph +
                                " --preprocess RNA=standardize --preprocess Morph=standardize --label-key "
                                "cell_type_TEM --no-discriminator --folds 5 --fold 0 --epochs 4 --seed 2 --device cpu "
                                "--out " +
                                out);
  REQUIRE_MESSAGE(r.code == 0, r.output);
  const cg::apps::ModelFolder folder = cg::apps::open_model_folder(out + "/model", "train_multitask");
  CHECK(folder.model["training"]["split"] == "fold0");
  CHECK(folder.config["label_key"] == "cell_type_TEM");
  nlohmann::json morph_stats;
  for (const auto& m : folder.model["modalities"])
    if (m["name"] == "Morph") morph_stats = m;
  REQUIRE(morph_stats["preprocess"] == "standardize");
  const std::vector<double> mean = morph_stats["mean"], sd = morph_stats["sd"];
  const std::vector<std::string> test_cells = cells_of(out + "/split.csv", "test");
  REQUIRE(test_cells.size() > 50);

  // The whole RNA file, as training evaluated it (the same cells in the same batches):
  // predict's translations of the held-out cells are the run's own, bit for bit.
  const Result p = run(
      tmp, "predict --model " + out + "/model --modality RNA=" + rna + " --device cpu --out " + tmp.file("from_rna"));
  REQUIRE_MESSAGE(p.code == 0, p.output);
  {
    const auto trained = cg::omics::read_h5ad(out + "/translated_RNA_to_Ephys.h5ad");
    const auto predicted = cg::omics::read_h5ad(tmp.file("from_rna/translations/RNA_to_Ephys.h5ad"));
    CHECK(predicted.uns.at("scale").strings.at(0).find("no preprocessing") != std::string::npos);
    CHECK(predicted.n_obs() == 448);
    CHECK(predicted.var.index == trained.var.index);
    const auto row = rows_by_name(predicted);
    const auto t = trained.X.to_dense(), q = predicted.X.to_dense();
    int64_t differ = 0;
    for (int64_t i = 0; i < trained.n_obs(); ++i)
      for (int64_t j = 0; j < t.cols(); ++j) differ += t(i, j) != q(row.at(trained.obs.index[i]), j);
    CHECK_MESSAGE(differ == 0, differ << " of " << t.size() << " RNA->Ephys values differ");
  }
  {
    // Morph was standardized: the run writes the model's scale, predict the file's (x * sd + mean).
    const auto trained = cg::omics::read_h5ad(out + "/translated_RNA_to_Morph.h5ad");
    const auto predicted = cg::omics::read_h5ad(tmp.file("from_rna/translations/RNA_to_Morph.h5ad"));
    CHECK(trained.uns.at("scale").strings.at(0).find("standardized") == 0);
    CHECK(predicted.uns.at("scale").strings.at(0).find("un-scaled") != std::string::npos);
    REQUIRE(static_cast<int64_t>(mean.size()) == trained.n_vars());
    const auto row = rows_by_name(predicted);
    const auto t = trained.X.to_dense(), q = predicted.X.to_dense();
    int64_t differ = 0;
    double max_value = 0;
    for (int64_t i = 0; i < trained.n_obs(); ++i)
      for (int64_t j = 0; j < t.cols(); ++j) {
        const float expected = static_cast<float>(static_cast<double>(t(i, j)) * sd[j] + mean[j]);
        differ += expected != q(row.at(trained.obs.index[i]), j);
        max_value = std::max(max_value, std::abs(static_cast<double>(expected)));
      }
    CHECK_MESSAGE(differ == 0, differ << " of " << t.size() << " RNA->Morph values differ");
    CHECK(max_value > 100);  // the file's scale (morphology reaches ~83,000), not standardized values
  }

  // All three modalities: the fused latent, the classes and their probabilities are the run's.
  const Result all = run(tmp, "predict --model " + out + "/model --modality RNA=" + rna + " --modality Ephys=" + ephys +
                                  " --modality Morph=" + morph + " --device cpu --out " + tmp.file("from_all"));
  REQUIRE_MESSAGE(all.code == 0, all.output);
  {
    const auto trained = cg::omics::read_h5ad(out + "/latent.h5ad");
    const auto predicted = cg::omics::read_h5ad(tmp.file("from_all/latent.h5ad"));
    REQUIRE(predicted.obs.index == trained.obs.index);
    CHECK(predicted.obsm.at("X_latent") == trained.obsm.at("X_latent"));
    const auto& probabilities = trained.obsm.at("cell_type_TEM_probabilities");
    CHECK(probabilities.rows() == 448);
    CHECK(probabilities.cols() == 27);
    CHECK(predicted.obsm.at("cell_type_TEM_probabilities") == probabilities);
    CHECK(predicted.obs.labels("predicted_cell_type_TEM") == trained.obs.labels("predicted_cell_type_TEM"));
    CHECK(trained.uns.at("cell_type_TEM_classes").strings.size() == 27);
    // The probability column is each cell's highest class probability, and the rows sum to 1.
    const auto& top = trained.obs.column("predicted_cell_type_TEM_probability").numbers;
    for (int64_t i = 0; i < probabilities.rows(); ++i) {
      CHECK(top[static_cast<size_t>(i)] == probabilities.row(i).maxCoeff());
      CHECK(probabilities.row(i).sum() == doctest::Approx(1.0).epsilon(1e-5));
    }
    // Held-out accuracy from latent.h5ad's predictions is the run's reported accuracy.
    const auto truth = trained.obs.labels("cell_type_TEM"), pred = trained.obs.labels("predicted_cell_type_TEM");
    const auto row = rows_by_name(trained);
    int correct = 0;
    for (const auto& c : test_cells) correct += truth[row.at(c)] == pred[row.at(c)];
    const nlohmann::json m = read_json(out + "/metrics.json");
    CHECK(static_cast<double>(correct) / test_cells.size() ==
          doctest::Approx(m["classification"]["accuracy"].get<double>()));
    // Given the targets, predict scores the translations (here over all cells, training ones too).
    const nlohmann::json pm = read_json(tmp.file("from_all/metrics.json"));
    CHECK(pm["translation"].size() == 6);
    CHECK(pm["classification"]["cells_scored"] == 448);
  }

  // New cells alone (the held-out RNA cells, without obs columns): outputs for exactly those
  // cells, within float rounding of the run's (BLAS results depend on a product's shape, so
  // other batches are not bit-identical), and metrics.json says why it has no metrics.
  write_cells(rna, test_cells, tmp.file("held_out_rna.h5ad"), /*keep_obs=*/false);
  const Result held = run(tmp, "predict --model " + out + "/model --modality RNA=" + tmp.file("held_out_rna.h5ad") +
                                   " --device cpu --out " + tmp.file("held_out"));
  REQUIRE_MESSAGE(held.code == 0, held.output);
  {
    const auto trained = cg::omics::read_h5ad(out + "/translated_RNA_to_Ephys.h5ad");
    const auto predicted = cg::omics::read_h5ad(tmp.file("held_out/translations/RNA_to_Ephys.h5ad"));
    REQUIRE(predicted.obs.index == test_cells);
    REQUIRE(trained.obs.index == test_cells);
    const cg::omics::DenseMatrix diff = trained.X.to_dense() - predicted.X.to_dense();
    CHECK(diff.cwiseAbs().maxCoeff() < 1e-4f * (1 + trained.X.to_dense().cwiseAbs().maxCoeff()));
    const nlohmann::json pm = read_json(tmp.file("held_out/metrics.json"));
    CHECK_FALSE(pm.contains("translation"));
    CHECK(pm["no_metrics"].get<std::string>().find("no metrics could be computed") == 0);
    CHECK(pm["no_metrics"].get<std::string>().find("obs column 'cell_type_TEM'") != std::string::npos);
    const auto latent = cg::omics::read_h5ad(tmp.file("held_out/latent.h5ad"));
    CHECK(latent.obs.has("predicted_cell_type_TEM"));
    CHECK(latent.uns.at("latent").strings.at(0).find("the latent of RNA") == 0);
    const nlohmann::json cfg = read_json(tmp.file("held_out/config.json"));
    CHECK(cfg["fill_missing"] == "error");
    CHECK(fs::exists(tmp.file("held_out/warnings.txt")));
  }
}

TEST_CASE(
    "train_multitask predict: a damaged or mismatched model folder and unusable input are refused in one line, "
    "writing nothing") {
  if (!have_binary()) return;
  TempDir tmp;
  write_modality(tmp.file("a.h5ad"), 30, 5, 3);
  write_modality(tmp.file("b.h5ad"), 30, 4, 3);
  const Result trained = run(tmp, "--modality A=" + tmp.file("a.h5ad") + " --modality B=" + tmp.file("b.h5ad") +
                                      " --label-key type --epochs 2 --device cpu --out " + tmp.file("run"));
  REQUIRE_MESSAGE(trained.code == 0, trained.output);
  const std::string good = tmp.file("run/model"), out = tmp.file("predicted");
  // A copy of the good model folder to damage.
  auto copy = [&](const std::string& name) {
    const std::string dir = tmp.file(name);
    fs::copy(good, dir, fs::copy_options::recursive);
    return dir;
  };
  auto predict = [&](const std::string& model, const std::string& modality) {
    return run(tmp, "predict --model " + model + " --modality " + modality + " --device cpu --out " + out);
  };
  const std::string a = "A=" + tmp.file("a.h5ad");
  // Each case below runs on its own (damaged) copy; they share one training run, so they are
  // blocks rather than doctest SUBCASEs (which would train again for every case).
  {  // the good folder works (so each refusal below is the damage's doing)
    const Result ok = predict(good, a);
    REQUIRE_MESSAGE(ok.code == 0, ok.output);
    const nlohmann::json m = read_json(out + "/metrics.json");
    CHECK(m["classification"]["cells_scored"] == 30);
    CHECK(fs::exists(out + "/translations/A_to_B.h5ad"));
    CHECK_FALSE(fs::exists(out + "/translations/B_to_A.h5ad"));
    fs::remove_all(out);
  }
  {
    INFO("a missing file");
    const std::string dir = copy("missing");
    fs::remove(dir + "/weights.h5");
    check_refused(predict(dir, a), {"--model " + dir, "weights.h5 is missing"}, tmp, out);
  }
  {
    INFO("a newer format version");
    const std::string dir = copy("newer");
    nlohmann::json man = read_json(dir + "/manifest.json");
    man["format_version"] = cg::apps::kModelFormatVersion + 1;
    write_json(dir + "/manifest.json", man);
    check_refused(predict(dir, a),
                  {"--model " + dir, "model format version " + std::to_string(cg::apps::kModelFormatVersion + 1),
                   "upgrade cellgrad"},
                  tmp, out);
  }
  {
    INFO("altered weights (one byte flipped)");
    const std::string dir = copy("altered");
    std::string bytes = read_text(dir + "/weights.h5");
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
    std::ofstream(dir + "/weights.h5", std::ios::binary) << bytes;
    check_refused(predict(dir, a), {"--model " + dir, "weights.h5 does not match its SHA-256 checksum"}, tmp, out);
  }
  {
    INFO("a spec that disagrees with the weights' shapes, the manifest re-sealed");
    const std::string dir = copy("reshaped");
    nlohmann::json model = read_json(dir + "/model.json"), config = read_json(dir + "/config.json");
    REQUIRE(model["spec"]["latent"] == 64);
    model["spec"]["latent"] = 32;
    config["latent"] = 32;
    write_json(dir + "/model.json", model);
    write_json(dir + "/config.json", config);
    cg::apps::seal_model_folder(dir, "train_multitask", {"config.json", "model.json", "weights.h5"});
    CHECK_NOTHROW(cg::apps::open_model_folder(dir, "train_multitask"));  // only the shape check is left
    check_refused(predict(dir, a),
                  {"--model " + dir, "weights.h5 does not fit the model that model.json's spec describes",
                   "file float32[64, ", "expected float32[32, "},
                  tmp, out);
  }
  {
    INFO("new data whose features do not overlap the model's");
    write_modality(tmp.file("other.h5ad"), 12, 5, 3, "g");
    check_refused(predict(good, "A=" + tmp.file("other.h5ad")),
                  {"--modality A=" + tmp.file("other.h5ad"), "none of the model's 5", "'g0'", "'f0'"}, tmp, out);
  }
  {
    INFO("a modality the model does not have");
    check_refused(predict(good, "C=" + tmp.file("a.h5ad")), {"the model has no modality 'C' (its modalities: A, B)"},
                  tmp, out);
  }
  {
    INFO("--out naming the model folder itself, even with --overwrite: refused, the model kept");
    const Result r =
        run(tmp, "predict --model " + good + " --modality " + a + " --device cpu --overwrite --out " + good);
    CHECK(r.code != 0);
    CHECK_MESSAGE(r.output.find("--out " + good + ": holds the input " + good + "/manifest.json") != std::string::npos,
                  r.output);
    CHECK_NOTHROW(cg::apps::open_model_folder(good, "train_multitask"));
  }
  {
    INFO("some of the model's features missing, unless --fill-missing zeros");
    write_modality(tmp.file("fewer.h5ad"), 12, 3, 3);  // f0..f2 of f0..f4
    check_refused(predict(good, "A=" + tmp.file("fewer.h5ad")), {"2 of the model's 5", "--fill-missing zeros"}, tmp,
                  out);
    const Result filled = run(tmp, "predict --model " + good + " --modality A=" + tmp.file("fewer.h5ad") +
                                       " --fill-missing zeros --device cpu --out " + out);
    REQUIRE_MESSAGE(filled.code == 0, filled.output);
    CHECK(read_text(out + "/warnings.txt").find("are set to 0 (--fill-missing zeros)") != std::string::npos);
  }
}

TEST_CASE(
    "train_multitask --save-model: writes a model folder predict accepts (the first split's, per-split ones in "
    "model/), refuses to replace one without --overwrite; runs record warnings and per-cell classes") {
  if (!have_binary()) return;
  TempDir tmp;
  write_modality(tmp.file("a.h5ad"), 30, 5, 3);
  write_modality(tmp.file("b.h5ad"), 30, 4, 3);
  // A's values are small non-integers: log1p over them draws the already-logarithmic warning.
  const std::string base = "--modality A=" + tmp.file("a.h5ad") + " --modality B=" + tmp.file("b.h5ad") +
                           " --preprocess A=log1p --label-key type --folds 2 --epochs 2 --device cpu";
  const std::string saved = tmp.file("saved");
  const Result r = run(tmp, base + " --out " + tmp.file("run") + " --save-model " + saved);
  REQUIRE_MESSAGE(r.code == 0, r.output);
  const cg::apps::ModelFolder m = cg::apps::open_model_folder(saved, "train_multitask");
  CHECK(m.manifest["files"].size() == 3);
  CHECK(m.model["training"]["split"] == "fold0");
  CHECK(m.model["training"]["splits_in_run"] == 2);
  CHECK(m.config["save_model"] == fs::absolute(saved).lexically_normal().string());
  const nlohmann::json a_entry = m.model["modalities"][0];
  CHECK(a_entry["preprocess"] == "log1p");
  CHECK(a_entry["input_features"].size() == 5);  // log1p's cell totals read every feature
  for (const char* split : {"fold0", "fold1"}) {
    INFO(split);
    const auto per_split = cg::apps::open_model_folder(tmp.file("run/model/") + split, "train_multitask");
    CHECK(per_split.model["training"]["split"] == split);
  }
  CHECK(read_text(saved + "/weights.h5") == read_text(tmp.file("run/model/fold0/weights.h5")));

  // The log1p warning names the modality and the maximum, in warnings.txt and metrics.json.
  const std::string warnings = read_text(tmp.file("run/warnings.txt"));
  CHECK(warnings.find("modality 'A' (--preprocess A=log1p): log1p is applied, but the values look logarithmic "
                      "already (not all integers, maximum 2.2") != std::string::npos);
  const nlohmann::json metrics = read_json(tmp.file("run/fold0/metrics.json"));
  REQUIRE(metrics["warnings"].is_array());
  CHECK(metrics["warnings"][0].get<std::string>().find("look logarithmic already") != std::string::npos);
  // Per-cell classes in the run's latent.h5ad.
  const auto latent = cg::omics::read_h5ad(tmp.file("run/fold0/latent.h5ad"));
  CHECK(latent.obs.column("predicted_type").categories == std::vector<std::string>{"type0", "type1", "type2"});
  CHECK(latent.obsm.at("type_probabilities").cols() == 3);
  CHECK(latent.uns.at("type_classes").strings == std::vector<std::string>{"type0", "type1", "type2"});

  // The same folder again: refused before any training, the first model untouched.
  const std::string manifest = read_text(saved + "/manifest.json");
  const Result again = run(tmp, base + " --out " + tmp.file("run2") + " --save-model " + saved);
  CHECK(again.code != 0);
  CHECK_MESSAGE(again.output.find("--save-model " + saved +
                                  ": already holds a model (config.json found); choose "
                                  "another folder or pass --overwrite") != std::string::npos,
                again.output);
  CHECK(again.output.find("[fold0]") == std::string::npos);  // no epoch was trained
  CHECK_FALSE(fs::exists(tmp.file("run2")));
  CHECK(read_text(saved + "/manifest.json") == manifest);
  const Result replaced =
      run(tmp, base + " --seed 5 --out " + tmp.file("run3") + " --save-model " + saved + " --overwrite");
  REQUIRE_MESSAGE(replaced.code == 0, replaced.output);
  CHECK(read_text(saved + "/manifest.json") != manifest);
  CHECK_NOTHROW(cg::apps::open_model_folder(saved, "train_multitask"));
}
