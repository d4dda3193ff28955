// End-to-end tests of the train_multitask binary (apps are not linked into the test binary, so
// the built program is run with std::system). The binary is the one beside the test binary
// ($CELLGRAD_BIN_DIR overrides; see app_runner.h); a missing binary fails the tests. Small synthetic .h5ad files
// exercise the bad-input paths; a short real run on the shared Patch-seq data checks the outputs, the held-out accuracy
// and the split's disjointness.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "omics/anndata.h"
#include "test_omics_io_util.h"
#include "test_paths.h"
#include "tests/app_runner.h"
#include "tests/multitask_fixtures.h"

namespace fs = std::filesystem;
using cg::test::TempDir;
using cg::test::multitask::cell_names;
using cg::test::multitask::write_modality;

namespace {

using Result = cg::test::AppResult;

// Runs the binary with `args` (stdout and stderr captured together).
Result run(const TempDir& tmp, const std::string& args) { return cg::test::run_app("train_multitask", tmp, args); }

bool have_binary() { return cg::test::have_app("train_multitask"); }

}  // namespace

TEST_CASE(
    "train_multitask: modalities with different cells are refused, listing the mismatches, and nothing is written") {
  if (!have_binary()) return;
  TempDir tmp;
  auto other = cell_names(20);
  other[3] = "x_only_b";
  other[7] = "y_only_b";
  write_modality(tmp.file("a.h5ad"), cell_names(20), 5, 2);
  write_modality(tmp.file("b.h5ad"), other, 4, 2);
  const std::string out = tmp.file("run");
  const Result r =
      run(tmp, "--modality A=" + tmp.file("a.h5ad") + " --modality B=" + tmp.file("b.h5ad") + " --out " + out);
  CHECK(r.code != 0);
  CHECK(r.output.find("do not hold the same cells") != std::string::npos);
  CHECK(r.output.find("2 only in 'A' (c3, c7)") != std::string::npos);
  CHECK(r.output.find("x_only_b") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
  // No staging folder is left beside it either.
  for (const auto& e : fs::directory_iterator(tmp.path))
    CHECK(e.path().filename().string().find(".cellgrad-") == std::string::npos);
}

TEST_CASE("train_multitask: bad settings and labels are refused with one clear line") {
  if (!have_binary()) return;
  TempDir tmp;
  write_modality(tmp.file("a.h5ad"), cell_names(24), 5, 3);
  write_modality(tmp.file("b.h5ad"), cell_names(24), 4, 3);
  const std::string base =
      "--modality A=" + tmp.file("a.h5ad") + " --modality B=" + tmp.file("b.h5ad") + " --epochs 2 --device cpu";

  SUBCASE("a feature count too large for any integer") {
    const Result r = run(tmp, base + " --top-features A=99999999999999999999 --out " + tmp.file("big"));
    CHECK(r.code != 0);
    CHECK_MESSAGE(r.output.find("--top-features A: expected a positive integer (a feature count), found "
                                "'99999999999999999999'") != std::string::npos,
                  r.output);
    CHECK_FALSE(fs::exists(tmp.file("big")));
  }
  SUBCASE("a negative loss weight") {
    const Result r = run(tmp, base + " --weight-translation -0.5 --out " + tmp.file("neg"));
    CHECK(r.code != 0);
    CHECK(r.output.find("--weight-translation: a loss weight must be >= 0") != std::string::npos);
    CHECK_FALSE(fs::exists(tmp.file("neg")));
  }
  SUBCASE("a class with a single cell") {
    auto names = cell_names(24);
    cg::omics::AnnData a = cg::omics::read_h5ad(tmp.file("a.h5ad"));
    auto labels = a.obs.labels("type");
    labels[5] = "lonely";
    a.obs.set("type", cg::omics::Column::categorical(labels));
    cg::omics::write_h5ad(tmp.file("a1.h5ad"), a);
    const Result r = run(tmp, "--modality A=" + tmp.file("a1.h5ad") + " --modality B=" + tmp.file("b.h5ad") +
                                  " --label-key type --out " + tmp.file("one"));
    CHECK(r.code != 0);
    CHECK(r.output.find("class 'lonely' has a single cell") != std::string::npos);
    CHECK_FALSE(fs::exists(tmp.file("one")));
  }
  SUBCASE("a diverging run names the loss term and leaves no output") {
    const Result r = run(tmp, base + " --lr 1e30 --out " + tmp.file("div"));
    CHECK(r.code != 0);
    // Either a training term or the validation loss is the first to overflow.
    CHECK_MESSAGE(r.output.find("(the model diverged; try a lower --lr)") != std::string::npos, r.output);
    CHECK(r.output.find("error: ") != std::string::npos);
    CHECK_FALSE(fs::exists(tmp.file("div")));
  }
  SUBCASE("an unknown early-stopping selection") {
    const Result r = run(tmp, base + " --select-on accuracy --out " + tmp.file("sel"));
    CHECK(r.code != 0);
    CHECK(r.output.find("--select-on: expected sum, translation or classification, found 'accuracy'") !=
          std::string::npos);
    CHECK_FALSE(fs::exists(tmp.file("sel")));
  }
  SUBCASE("an unknown attribution target lists the known ones") {
    const Result r = run(tmp, base + " --attributions 5 --attribution-targets C --out " + tmp.file("attr"));
    CHECK(r.code != 0);
    CHECK(r.output.find("--attribution-targets: unknown target 'C' (expected one of: classifier, A, B)") !=
          std::string::npos);
    CHECK_FALSE(fs::exists(tmp.file("attr")));
  }
  SUBCASE("a missing label key names the columns present") {
    const Result r = run(tmp, base + " --label-key cell_type --out " + tmp.file("nokey"));
    CHECK(r.code != 0);
    CHECK(r.output.find("'cell_type': no modality has this obs column") != std::string::npos);
    CHECK(r.output.find("type") != std::string::npos);
  }
  SUBCASE("zero-variance features: an error naming the modality and the count when asked") {
    write_modality(tmp.file("z.h5ad"), cell_names(24), 6, 3, /*constant_features=*/2);
    const Result r = run(tmp, "--modality A=" + tmp.file("a.h5ad") + " --modality Z=" + tmp.file("z.h5ad") +
                                  " --zero-variance error --out " + tmp.file("zv"));
    CHECK(r.code != 0);
    CHECK(r.output.find("modality 'Z'") != std::string::npos);
    CHECK(r.output.find("2 features are constant on the training cells") != std::string::npos);
    CHECK_FALSE(fs::exists(tmp.file("zv")));
    // The default drops them with a note and trains (standardize never divides by zero).
    const Result ok = run(tmp, "--modality A=" + tmp.file("a.h5ad") + " --modality Z=" + tmp.file("z.h5ad") +
                                   " --preprocess Z=standardize --epochs 2 --device cpu --out " + tmp.file("zv2"));
    CHECK_MESSAGE(ok.code == 0, ok.output);
    CHECK(ok.output.find("dropped 2 features") != std::string::npos);
  }
  SUBCASE("an existing run folder is refused without --overwrite and left untouched") {
    // A committed run is recognised by its marker file (apps/common/run_folder.h).
    fs::create_directories(tmp.file("old"));
    std::ofstream(tmp.file("old/config.json")) << "{\"marker\": 1}\n";
    std::ofstream(tmp.file("old/.cellgrad-run")) << "cellgrad run\n";
    const Result r = run(tmp, base + " --out " + tmp.file("old"));
    CHECK(r.code != 0);
    CHECK(r.output.find("already holds a run") != std::string::npos);
    std::ifstream f(tmp.file("old/config.json"));
    std::string content((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    CHECK(content == "{\"marker\": 1}\n");
    const Result again = run(tmp, base + " --out " + tmp.file("old") + " --overwrite");
    CHECK_MESSAGE(again.code == 0, again.output);
    CHECK(fs::exists(tmp.file("old/best.h5")));
  }
  SUBCASE("a folder of other files is refused even with --overwrite, and kept") {
    fs::create_directories(tmp.file("mine"));
    std::ofstream(tmp.file("mine/notes.txt")) << "mine\n";
    const Result r = run(tmp, base + " --out " + tmp.file("mine") + " --overwrite");
    CHECK(r.code != 0);
    CHECK_MESSAGE(r.output.find("holds files that are not a cellgrad run") != std::string::npos, r.output);
    CHECK(fs::exists(tmp.file("mine/notes.txt")));
  }
}

TEST_CASE(
    "train_multitask: a short Patch-seq run writes every output, classifies held-out cells well above chance, "
    "and never trains on them") {
  if (!have_binary()) return;
  const std::string d = cg::test::data_path("crossmodal/unitednet_patchseq_");
  if (!cg::test::have_data({"crossmodal/unitednet_patchseq_RNA_TEM.h5ad",
                            "crossmodal/unitednet_patchseq_Ephys_TEM.h5ad",
                            "crossmodal/unitednet_patchseq_Morph_TEM.h5ad"}))
    return;
  TempDir tmp;
  const std::string out = tmp.file("patchseq");
  const Result r = run(
      tmp, "--modality RNA=" + d + "RNA_TEM.h5ad --modality Ephys=" + d + "Ephys_TEM.h5ad --modality Morph=" + d +
               "Morph_TEM.h5ad --preprocess RNA=standardize --preprocess Morph=standardize --label-key cell_type_TEM "
               "--epochs 60 --no-discriminator --seed 3 --device cpu --attributions 5 "
               "--attribution-targets Ephys,classifier --attribution-cells 40 --out " +
               out);
  REQUIRE_MESSAGE(r.code == 0, r.output);
  for (const char* f :
       {"config.json", "best.h5", "last.h5", "metrics.json", "metrics.csv", "history.csv", "history.jsonl",
        "loss_curves.svg", "latent.h5ad", "latent_pca.svg", "split.csv", "translated_RNA_to_Ephys.h5ad",
        "translated_Morph_to_RNA.h5ad", "translated_Ephys_to_Morph.h5ad"})
    CHECK_MESSAGE(fs::exists(out + "/" + f), f);
  // config.json can be given back with --config from anywhere: absolute modality paths, no overwrite.
  nlohmann::json cfg;
  std::ifstream(out + "/config.json") >> cfg;
  CHECK_FALSE(cfg.contains("overwrite"));
  for (const auto& e : cfg["modalities"])
    CHECK(fs::path(e.get<std::string>().substr(e.get<std::string>().find('=') + 1)).is_absolute());
  nlohmann::json m;
  std::ifstream(out + "/metrics.json") >> m;
  const double acc = m["classification"]["accuracy"].get<double>();
  MESSAGE("held-out accuracy " << acc);
  CHECK(acc > 0.5);  // 27 types: chance is ~4-10%; 60 epochs reach ~0.7-0.85
  CHECK(m["translation"].size() == 6);

  // split.csv partitions every cell into exactly one of train/validation/test.
  std::ifstream sf(out + "/split.csv");
  std::string line;
  std::getline(sf, line);
  std::map<std::string, std::set<std::string>> sets;
  int rows = 0;
  while (std::getline(sf, line)) {
    const auto a = line.find(','), b = line.rfind(',');
    sets[line.substr(b + 1)].insert(line.substr(0, a));
    ++rows;
  }
  CHECK(rows == 448);
  CHECK(sets["train"].size() + sets["validation"].size() + sets["test"].size() == 448);
  for (const auto& t : sets["test"]) {
    CHECK(sets["train"].count(t) == 0);
    CHECK(sets["validation"].count(t) == 0);
  }
  CHECK(sets["test"].size() == m["test_cells"].get<size_t>());
  // Per-class report and confusion matrix over the test cells agree with the headline accuracy.
  {
    std::ifstream pc(out + "/classification_per_class.csv"), cmf(out + "/confusion_matrix.csv");
    std::string l;
    std::getline(pc, l);
    CHECK(l == "class,support,precision,recall,f1");
    int classes = 0;
    long support = 0;
    while (std::getline(pc, l)) {
      ++classes;
      const auto a = l.find(',');
      support += std::stol(l.substr(a + 1, l.find(',', a + 1) - a - 1));
    }
    CHECK(classes == 27);
    CHECK(support == static_cast<long>(sets["test"].size()));
    std::getline(cmf, l);
    long total = 0, diagonal = 0;
    for (int row = 0; std::getline(cmf, l); ++row) {
      std::stringstream ss(l);
      std::string cell;
      std::getline(ss, cell, ',');  // class name
      for (int col = 0; std::getline(ss, cell, ','); ++col) {
        total += std::stol(cell);
        if (col == row) diagonal += std::stol(cell);
      }
    }
    CHECK(total == static_cast<long>(sets["test"].size()));
    CHECK(static_cast<double>(diagonal) / total == doctest::Approx(acc));
  }
  // The translated matrices hold exactly the held-out cells.
  const auto tr = cg::omics::read_h5ad(out + "/translated_RNA_to_Ephys.h5ad");
  CHECK(std::set<std::string>(tr.obs.index.begin(), tr.obs.index.end()) == sets["test"]);
  const auto lat = cg::omics::read_h5ad(out + "/latent.h5ad");
  CHECK(lat.obsm.count("X_latent") == 1);
  CHECK(lat.obsm.at("X_latent").rows() == 448);
  // Attributions: only the directions into Ephys and the classifier were asked for.
  CHECK_FALSE(fs::exists(out + "/attributions_Ephys_to_RNA.csv"));
  CHECK_FALSE(fs::exists(out + "/attributions_RNA_to_Morph.h5ad"));
  for (const std::string dir : {"RNA_to_Ephys", "Morph_to_Ephys"}) {
    INFO(dir);
    const auto t = cg::omics::read_h5ad(out + "/attributions_" + dir + ".h5ad");
    CHECK(t.obs.index.size() == 68);  // one row per electrophysiology feature
    CHECK(t.var.index.size() ==
          size_t(dir == "RNA_to_Ephys" ? m["features"]["RNA"].get<size_t>() : m["features"]["Morph"].get<size_t>()));
    // Integrated gradients' completeness (sum of a cell's attributions = f(x) - f(baseline)) holds
    // up to the 32-step quadrature error: measured ~8% of the largest |f(x) - f(baseline)| here
    // (it shrinks ~1/steps: 1.16, 0.22, 0.05 at 8, 32, 128 steps after 10 epochs). A wrong
    // baseline or a missing (x - x') factor breaks it by the order of the delta itself.
    const double completeness = t.uns.at("attribution/max_completeness_error").numbers.at(0);
    const double delta = t.uns.at("attribution/max_abs_output_delta").numbers.at(0);
    MESSAGE(dir << " max completeness error " << completeness << " of max |delta| " << delta);
    CHECK(delta > 1);
    CHECK(completeness < 0.15 * delta);
    std::ifstream csv(out + "/attributions_" + dir + ".csv");
    int lines = 0;
    for (std::string l; std::getline(csv, l);) ++lines;
    CHECK(lines == 1 + 68 * 5);  // header + top 5 per output
  }
  const auto cls = cg::omics::read_h5ad(out + "/attributions_classifier.h5ad");
  CHECK(cls.obs.index.size() == 27);
  CHECK(cls.var.index.size() == m["features"]["RNA"].get<size_t>() + m["features"]["Ephys"].get<size_t>() +
                                    m["features"]["Morph"].get<size_t>());
  CHECK(cls.var.index.front().rfind("RNA:", 0) == 0);
}

TEST_CASE("train_multitask: --select-on decides which validation terms early stopping follows") {
  if (!have_binary()) return;
  TempDir tmp;
  write_modality(tmp.file("a.h5ad"), cell_names(30), 5, 3);
  write_modality(tmp.file("b.h5ad"), cell_names(30), 4, 3);
  const std::string base = "--modality A=" + tmp.file("a.h5ad") + " --modality B=" + tmp.file("b.h5ad") +
                           " --label-key type --epochs 4 --device cpu --out ";
  // history.csv rows as column -> value.
  auto history = [](const std::string& path) {
    std::ifstream f(path);
    std::string line;
    std::getline(f, line);
    std::vector<std::string> header;
    std::stringstream hs(line);
    for (std::string h; std::getline(hs, h, ',');) header.push_back(h);
    std::vector<std::map<std::string, double>> rows;
    while (std::getline(f, line)) {
      std::stringstream ls(line);
      std::map<std::string, double> row;
      size_t i = 0;
      for (std::string v; std::getline(ls, v, ',') && i < header.size(); ++i) row[header[i]] = std::stod(v);
      rows.push_back(row);
    }
    return rows;
  };
  for (const std::string sel : {"sum", "translation", "classification"}) {
    INFO(sel);
    const Result r = run(tmp, base + tmp.file(sel) + " --select-on " + sel);
    REQUIRE_MESSAGE(r.code == 0, r.output);
    const auto rows = history(tmp.file(sel + "/history.csv"));
    REQUIRE(rows.size() == 4);
    for (const auto& row : rows) {
      const double rec = row.at("val_reconstruction"), tr = row.at("val_translation"),
                   cls = row.at("val_classification");
      const double expected = sel == "sum" ? rec + tr + cls : sel == "translation" ? rec + tr : cls;
      CHECK(row.at("val_loss") == doctest::Approx(expected).epsilon(1e-9));
    }
  }
}

TEST_CASE("train_multitask: --layer NAME=LAYER reads a layer instead of X; a missing one lists those present") {
  if (!have_binary()) return;
  TempDir tmp;
  write_modality(tmp.file("a.h5ad"), cell_names(40), 5, 2);
  write_modality(tmp.file("b.h5ad"), cell_names(40), 4, 2);
  // The same values as a's X, but in a layer, with junk in X.
  cg::omics::AnnData layered = cg::omics::read_h5ad(tmp.file("a.h5ad"));
  layered.layers["values"] = layered.X;
  layered.X = cg::omics::Matrix::from(cg::omics::DenseMatrix::Constant(layered.n_obs(), 5, 99.0f));
  cg::omics::write_h5ad(tmp.file("a_layered.h5ad"), layered);
  const std::string common = " --modality B=" + tmp.file("b.h5ad") +
                             " --label-key type --epochs 3 --batch-size 8 --device cpu --no-discriminator";
  const Result plain = run(tmp, "--modality A=" + tmp.file("a.h5ad") + common + " --out " + tmp.file("plain"));
  REQUIRE_MESSAGE(plain.code == 0, plain.output);
  const Result layer = run(
      tmp, "--modality A=" + tmp.file("a_layered.h5ad") + " --layer A=values" + common + " --out " + tmp.file("layer"));
  REQUIRE_MESSAGE(layer.code == 0, layer.output);
  auto metrics = [](const std::string& dir) {
    nlohmann::json j;
    std::ifstream(dir + "/metrics.json") >> j;
    return j["translation"];
  };
  CHECK(metrics(tmp.file("plain")) == metrics(tmp.file("layer")));
  const Result missing = run(tmp, "--modality A=" + tmp.file("a_layered.h5ad") + " --layer A=counts" + common +
                                      " --out " + tmp.file("missing"));
  CHECK(missing.code != 0);
  CHECK_MESSAGE(missing.output.find("--layer 'counts' does not exist; layers present: values") != std::string::npos,
                missing.output);
  const Result unknown =
      run(tmp, "--modality A=" + tmp.file("a.h5ad") + " --layer C=values" + common + " --out " + tmp.file("unknown"));
  CHECK(unknown.code != 0);
  CHECK_MESSAGE(unknown.output.find("--layer: 'C' is not a modality given with --modality") != std::string::npos,
                unknown.output);
  CHECK_FALSE(fs::exists(tmp.file("missing")));
}
