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
#include "tests/predict_perturbation_fixtures.h"

namespace fs = std::filesystem;
using cg::test::TempDir;

using namespace cg::test::perturb;

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

TEST_CASE(
    "predict_perturbation: held-out types that cannot be predicted or scored: refused by name, skipped in a sweep") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), out = tmp.file("run");

  SUBCASE("a held-out type without control cells: an error by name, skipped with a note in the sweep") {
    write_data(data, keep_only(standard_cells(), "B", "control", 0));
    check_refused(run(tmp, base_args(data, out, "B")), out,
                  {"held-out cell type 'B' has 0 'control' cell(s), fewer than --min-cells 10"});
    const Result sweep = run(tmp, base_args(data, out, "all"));
    REQUIRE_MESSAGE(sweep.code == 0, sweep.output);
    CHECK(contains(sweep.output, "note: " + data + ": held-out cell type 'B' is skipped: it has 0 'control' cell(s)"));
    CHECK(contains(read_text(out + "/warnings.txt"), "held-out cell type 'B' is skipped"));
    const std::string table = read_text(out + "/table.csv");
    CHECK(contains(table, "\nshift,A,"));
    CHECK(contains(table, "\nshift,C,"));
    CHECK_FALSE(contains(table, "\nshift,B,"));
  }
  SUBCASE("a held-out type without perturbed cells") {
    write_data(data, keep_only(standard_cells(), "C", "stim", 0));
    check_refused(run(tmp, base_args(data, out, "C")), out, {"held-out cell type 'C' has 0 'stim' cell(s)"});
  }
  SUBCASE("a held-out type that lacks one of several perturbed values") {
    write_data(data, standard_cells() + groups({"B", "C"}, {"stim2"}, 12));
    check_refused(run(tmp, base_args(data, out)), out, {"held-out cell type 'A' has 0 'stim2' cell(s)"});
    // Predicting only the value it has is fine.
    const Result ok = run(tmp, base_args(data, out) + " --perturbed stim");
    CHECK_MESSAGE(ok.code == 0, ok.output);
  }
  SUBCASE("a held-out type with a single control or a single perturbed cell (the DEG test needs two)") {
    write_data(data, keep_only(standard_cells(), "A", "control", 1));
    check_refused(run(tmp, base_args(data, out)), out, {"held-out cell type 'A' has 1 'control' cell(s)"});
    check_refused(run(tmp, base_args(data, out) + " --min-cells 1"), out, {"--min-cells: expected at least 2"});
    write_data(data, keep_only(standard_cells(), "C", "stim", 3));
    check_refused(run(tmp, base_args(data, out, "C") + " --min-cells 4"), out,
                  {"held-out cell type 'C' has 3 'stim' cell(s), fewer than --min-cells 4"});
    const Result ok = run(tmp, base_args(data, out, "C") + " --min-cells 3");
    CHECK_MESSAGE(ok.code == 0, ok.output);
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
  SUBCASE("a training group too small for the validation split goes wholly into training, with a note") {
    // Two A/stim cells: a validation fraction of 0.2 cannot split them (round(0.4) = 0).
    write_data(data, keep_only(standard_cells(), "A", "stim", 2));
    const Result r = run(tmp, base_args(data, out, "B", "scgen") + " --epochs 2");
    REQUIRE_MESSAGE(r.code == 0, r.output);
    CHECK(contains(r.output, "note: cell type 'A', condition 'stim': 2 cells: too few to split"));
    CHECK(contains(read_text(out + "/warnings.txt"), "cell type 'A', condition 'stim': 2 cells"));
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

TEST_CASE("predict_perturbation: X with NaN is refused; integer counts are refused unless normalised or allowed") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string out = tmp.file("run");
  SUBCASE("NaN") {
    write_data(tmp.file("nan.h5ad"), standard_cells(),
               [](int64_t i, int j, const std::string& t, const std::string& c) {
                 return i == 3 && j == 5 ? NAN : smooth_value(i, j, t, c);
               });
    check_refused(run(tmp, base_args(tmp.file("nan.h5ad"), out)), out,
                  {"nan.h5ad (X): holds a non-finite value at cell 3, gene 5"});
  }
  SUBCASE("integer counts") {
    write_data(tmp.file("counts.h5ad"), standard_cells(), [](int64_t i, int j, const std::string&, const std::string&) {
      return static_cast<float>((i * 13 + j * 7) % 51);
    });
    check_refused(run(tmp, base_args(tmp.file("counts.h5ad"), out)), out,
                  {"looks like raw counts (all integers, maximum 50)", "--preprocess log1p", "--allow-counts"});
    const Result allowed = run(tmp, base_args(tmp.file("counts.h5ad"), out) + " --allow-counts");
    CHECK_MESSAGE(allowed.code == 0, allowed.output);
    CHECK(contains(read_text(out + "/warnings.txt"), "looks like raw counts (all integers, maximum 50)"));
    const Result normalised = run(tmp, base_args(tmp.file("counts.h5ad"), tmp.file("run2")) + " --preprocess log1p");
    CHECK_MESSAGE(normalised.code == 0, normalised.output);
    CHECK_FALSE(fs::exists(tmp.file("run2") + "/warnings.txt"));
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
    check_refused(run(tmp, base_args(data, out, "A", "scgen") + " --batch-size 1"), out,
                  {"scgen: --batch-size: expected at least 2 (batch norm needs two cells), found 1"});
  }
  SUBCASE("an unknown model") {
    check_refused(run(tmp, base_args(data, out, "A", "control,scgan")), out, {"--models: unknown model 'scgan'"});
  }
  SUBCASE("--lr 0") {
    check_refused(run(tmp, base_args(data, out, "A", "mtae,shift") + " --lr 0"), out,
                  {"mtae: --lr: expected a positive learning rate, found 0"});
  }
  SUBCASE("a training setting no chosen model takes names the models and the networks that take it") {
    check_refused(run(tmp, base_args(data, out) + " --lr 0.01"), out,
                  {"--lr: no chosen model takes it", "the networks that take it: scgen, mtae"});
    check_refused(run(tmp, base_args(data, out, "A", "mtae,shift") + " --alpha 1"), out,
                  {"--alpha: no chosen model takes it (mtae do not)", "the networks that take it: scgen, mtvae"});
  }
  SUBCASE("model_settings: an unknown network, a setting the network does not take, a bad value") {
    check_refused(with_config(R"({"model_settings": {"scgan": {"lr": 0.1}}})"), out,
                  {"model_settings: 'scgan' is not a network", "scgen, mtae"});
    auto with_mtae_settings = [&](const std::string& settings) {
      std::ofstream(tmp.file("cfg.json")) << R"({"model_settings": {"mtae": )" + settings + "}}";
      return run(tmp, "--config " + tmp.file("cfg.json") + " " + base_args(data, out, "A", "mtae"));
    };
    check_refused(with_mtae_settings(R"({"alpha": 0.1})"), out,
                  {"model_settings.mtae: mtae does not take 'alpha' (--alpha); it takes"});
    check_refused(with_mtae_settings(R"({"dropout": 1.5})"), out,
                  {"mtae: --dropout: expected a rate in [0, 1), found 1.5"});
    check_refused(with_mtae_settings(R"({"epoch": 3})"), out,
                  {"model_settings.mtae: 'epoch' is not a model setting; expected one of hidden, latent"});
  }
  SUBCASE("numbers out of an integer setting's range, or not whole, name the value as given") {
    check_refused(with_config("{\"epochs\": 1e30}"), out,
                  {"cfg.json: setting 'epochs' expects a whole number from -2147483648 to 2147483647, found 1e+30"});
    check_refused(with_config("{\"epochs\": 2.5}"), out, {"setting 'epochs' expects a whole number", "found 2.5"});
    check_refused(with_config("{\"seeds\": [0, -1]}"), out,
                  {"setting 'seeds[1]' expects a whole number from 0 to 18446744073709551615, found -1"});
  }
  SUBCASE("a path that is not valid UTF-8 is refused before anything runs (JSON and .h5ad need UTF-8)") {
    const std::string latin1 = tmp.file("caf\xE9");
    const Result r = run(tmp, base_args(data, latin1));
    check_refused(r, latin1, {"('" + tmp.file("caf\\xE9") + "') is not valid UTF-8 (byte", "rename the file or folder"});
    CHECK(r.code == 2);
  }
  SUBCASE("a command-line mistake is one line with the app's name and exit status 2") {
    const Result r = run(tmp, base_args(data, out) + " --epochz 3");
    check_refused(r, out, {"--epochz", "(see --help)"});
    CHECK(r.code == 2);
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

TEST_CASE("predict_perturbation: scaled X is refused with the way out; --use-raw reads .raw; --layer reads a layer") {
  if (!have_binary()) return;
  TempDir tmp;
  // Written by scripts/make_raw_fixture.py with anndata: X scaled by pp.scale, log data in .raw.
  const std::string scaled = fs::absolute("tests/reference/scaled_with_raw.h5ad").string();
  REQUIRE_MESSAGE(fs::exists(scaled), scaled << " is missing (/usr/bin/python3 scripts/make_raw_fixture.py)");
  const std::string out = tmp.file("run");
  check_refused(run(tmp, base_args(scaled, out)), out, {"holds negative values", "looks scaled", "--use-raw"});
  const Result raw = run(tmp, base_args(scaled, out) + " --use-raw");
  REQUIRE_MESSAGE(raw.code == 0, raw.output);
  const auto pred = cg::omics::read_h5ad(out + "/A/control/seed0/predicted.h5ad");  // the controls as read
  CHECK(pred.var.index.size() == size_t(kGenes));
  CHECK(pred.dense_X().minCoeff() >= 0.0f);  // log-scale values, not the scaled ones
  // The same values from X of another file give the same table (to float precision).
  write_data(tmp.file("plain.h5ad"), standard_cells());
  const Result plain = run(tmp, base_args(tmp.file("plain.h5ad"), tmp.file("plain")));
  REQUIRE_MESSAGE(plain.code == 0, plain.output);
  nlohmann::json a, b;
  std::ifstream(out + "/A/shift/seed0/metrics.json") >> a;
  std::ifstream(tmp.file("plain") + "/A/shift/seed0/metrics.json") >> b;
  CHECK(a["r2_all"].get<double>() == doctest::Approx(b["r2_all"].get<double>()).epsilon(1e-5));

  // A layer: X holds junk, the layer the values.
  cg::omics::AnnData layered = cg::omics::read_h5ad(tmp.file("plain.h5ad"));
  layered.layers["lognorm"] = layered.X;
  layered.X = cg::omics::Matrix::from(cg::omics::DenseMatrix::Constant(layered.n_obs(), kGenes, -3.0f));
  cg::omics::write_h5ad(tmp.file("layered.h5ad"), layered);
  check_refused(run(tmp, base_args(tmp.file("layered.h5ad"), tmp.file("l1")) + " --layer counts"), tmp.file("l1"),
                {"--layer 'counts' does not exist; layers present: lognorm"});
  const Result layer = run(tmp, base_args(tmp.file("layered.h5ad"), tmp.file("l2")) + " --layer lognorm");
  REQUIRE_MESSAGE(layer.code == 0, layer.output);
  CHECK(read_text(tmp.file("l2") + "/table.csv") == read_text(tmp.file("plain") + "/table.csv"));
  check_refused(run(tmp, base_args(tmp.file("plain.h5ad"), tmp.file("l3")) + " --use-raw"), tmp.file("l3"),
                {"raw", "--use-raw asks for .raw, which this file does not have"});
}

TEST_CASE(
    "predict_perturbation: --quiet prints no progress or notes, --verbose every epoch; sweeps say where they are") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad");
  write_data(data, keep_only(standard_cells(), "A", "stim", 2));  // a group too small to split: a note
  const std::string args = base_args(data, tmp.file("q"), "B", "scgen") + " --epochs 30 --patience 100";
  const Result quiet = run(tmp, args + " --quiet");
  REQUIRE_MESSAGE(quiet.code == 0, quiet.output);
  CHECK_FALSE(contains(quiet.output, "[scgen"));
  CHECK_FALSE(contains(quiet.output, "note:"));
  CHECK(contains(read_text(tmp.file("q") + "/warnings.txt"), "too few to split"));  // still kept

  const Result normal = run(tmp, base_args(data, tmp.file("n"), "all", "scgen") + " --epochs 30 --patience 100");
  REQUIRE_MESSAGE(normal.code == 0, normal.output);
  CHECK(contains(normal.output, "[benchmark] type 2/2, seed 1/1"));  // A is skipped: 2 stim cells
  CHECK(contains(normal.output, "left)"));                           // the sweep's ETA
  // Not a terminal: about every 10% of the epochs (first, every 3rd, last), not all 30.
  size_t lines = 0;
  for (size_t at = normal.output.find("[scgen B seed 0]"); at != std::string::npos;
       at = normal.output.find("[scgen B seed 0]", at + 1))
    ++lines;
  CHECK(lines >= 8);
  CHECK(lines <= 12);

  const Result verbose =
      run(tmp, base_args(data, tmp.file("v"), "B", "scgen") + " --epochs 30 --patience 100 --verbose");
  REQUIRE_MESSAGE(verbose.code == 0, verbose.output);
  size_t every = 0;
  for (size_t at = verbose.output.find("[scgen B seed 0]"); at != std::string::npos;
       at = verbose.output.find("[scgen B seed 0]", at + 1))
    ++every;
  CHECK(every == 30);
}
