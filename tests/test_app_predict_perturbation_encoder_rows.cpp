// predict_perturbation, issue 13 items 3-5 at the app's door: --mmd-weight (0 changes nothing,
// a weight is logged and changes the networks, bad values refused), the pathway outputs of the
// encoders (obsm X_pathways + uns pathway_names, readable by anndata; attention's top genes; the
// soft mask's changed links; the real-vs-predicted bar chart) and --encoder / --mask lists that
// become rows <model>+<encoder> of one table.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "omics/anndata.h"
#include "tests/predict_perturbation_fixtures.h"

using cg::test::TempDir;
using namespace cg::test::perturb;

namespace {

const std::string kGmt =
    "UP\tup genes\tg0\tg1\tg2\n"
    "MIX\tmixed\tg3\tg10\n"
    "FLAT\tno response\tg10\tg11\tg12\n";

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

cg::omics::DenseMatrix predicted_x(const std::string& path) { return cg::omics::read_h5ad(path).X.to_dense(); }

bool python_anndata_available() {
  static const int rc = std::system("/usr/bin/python3 -c 'import anndata' >/dev/null 2>&1");
  return rc == 0;
}

}  // namespace

TEST_CASE("predict_perturbation --mmd-weight: 0 is the run without it, bit for bit; a weight is logged and changes it") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad");
  write_data(data, standard_cells());
  const std::string args = " --epochs 3 --batch-size 16";
  const Result plain = run(tmp, base_args(data, tmp.file("plain"), "A", "scgen,mtae-fast") + args);
  const Result zero = run(tmp, base_args(data, tmp.file("zero"), "A", "scgen,mtae-fast") + args + " --mmd-weight 0");
  const Result some = run(tmp, base_args(data, tmp.file("some"), "A", "scgen,mtae-fast") + args + " --mmd-weight 5");
  REQUIRE_MESSAGE(plain.code == 0, plain.output);
  REQUIRE_MESSAGE(zero.code == 0, zero.output);
  REQUIRE_MESSAGE(some.code == 0, some.output);
  for (const std::string net : {"scgen", "mtae-fast"}) {
    INFO(net);
    const std::string dir = "/A/" + net + "/seed0/";
    CHECK(predicted_x(tmp.file("plain") + dir + "predicted.h5ad") ==
          predicted_x(tmp.file("zero") + dir + "predicted.h5ad"));
    CHECK(read_text(tmp.file("plain") + dir + "history.csv") == read_text(tmp.file("zero") + dir + "history.csv"));
    CHECK_FALSE(contains(read_text(tmp.file("zero") + dir + "history.csv"), "train_mmd"));
    const std::string history = read_text(tmp.file("some") + dir + "history.csv");
    CHECK(contains(history.substr(0, history.find('\n')), "train_mmd"));
    CHECK(predicted_x(tmp.file("plain") + dir + "predicted.h5ad") !=
          predicted_x(tmp.file("some") + dir + "predicted.h5ad"));
  }
  CHECK(nlohmann::json::parse(read_text(tmp.file("some") + "/config.json")).at("mmd_weight") == 5.0);
}

TEST_CASE("predict_perturbation --mmd-weight: a negative or NaN weight, or no network to train, is refused") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), out = tmp.file("run");
  write_data(data, standard_cells());
  check_refused(run(tmp, base_args(data, out, "A", "scgen") + " --mmd-weight -1"), out,
                {"--mmd-weight: expected 0 (off) or a positive finite weight, found -1"});
  check_refused(run(tmp, base_args(data, out, "A", "scgen") + " --mmd-weight nan"), out, {"--mmd-weight"});
  check_refused(run(tmp, base_args(data, out, "A", "control,shift") + " --mmd-weight 1"), out,
                {"--mmd-weight: no chosen model trains a network"});
}

TEST_CASE("predict_perturbation: --encoder and --mask lists give rows <model>+<encoder>, with the pathway outputs") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), gmt = tmp.file("sets.gmt"), out = tmp.file("run");
  write_data(data, standard_cells());
  write_text(gmt, kGmt);
  const Result r = run(tmp, base_args(data, out, "A", "scgen,shift") +
                                " --epochs 2 --encoder mlp,masked-linear,pathway-attention --mask hard,soft "
                                "--heads 2 --embed 4 --gene-sets " + gmt + " --min-genes-present 2");
  REQUIRE_MESSAGE(r.code == 0, r.output);
  const std::string table = read_text(out + "/table.csv");
  INFO(table);
  for (const std::string row : {"scgen+mlp", "scgen+masked-linear", "scgen+pathway-attention-hard",
                                "scgen+pathway-attention-soft"})
    CHECK(contains(table, "\n" + row + ",A,"));
  CHECK(contains(table, "\nshift,A,"));
  CHECK_FALSE(contains(table, "\nscgen,A,"));
  CHECK_FALSE(contains(table, "shift+"));

  // X_pathways: one activity per kept set for every predicted cell, the names in uns; none for
  // the MLP encoder or a baseline.
  for (const std::string row : {"scgen+masked-linear", "scgen+pathway-attention-hard", "scgen+pathway-attention-soft"}) {
    INFO(row);
    const cg::omics::AnnData a = cg::omics::read_h5ad(out + "/A/" + row + "/seed0/predicted.h5ad");
    REQUIRE(a.obsm.count("X_pathways") == 1);
    CHECK(a.obsm.at("X_pathways").rows() == 12);
    CHECK(a.obsm.at("X_pathways").cols() == 3);
    REQUIRE(a.uns.count("pathway_names") == 1);
    CHECK(a.uns.at("pathway_names").strings == std::vector<std::string>{"UP", "MIX", "FLAT"});
    CHECK(a.obsm.at("X_pathways").allFinite());
  }
  CHECK(cg::omics::read_h5ad(out + "/A/scgen+mlp/seed0/predicted.h5ad").obsm.count("X_pathways") == 0);
  CHECK(cg::omics::read_h5ad(out + "/A/shift/seed0/predicted.h5ad").obsm.count("X_pathways") == 0);
  if (python_anndata_available()) {
    const std::string cmd = "/usr/bin/python3 -c \"import anndata; a = anndata.read_h5ad('" + out +
                            "/A/scgen+pathway-attention-soft/seed0/predicted.h5ad'); "
                            "assert a.obsm['X_pathways'].shape == (12, 3), a.obsm['X_pathways'].shape; "
                            "assert list(a.uns['pathway_names']) == ['UP', 'MIX', 'FLAT']\"";
    CHECK(std::system(cmd.c_str()) == 0);
  } else {
    MESSAGE("skipped the anndata read-back of X_pathways: /usr/bin/python3 with anndata not found");
  }

  // Attention: each pathway's links by mean attention (all 3 of UP's, ranks 1..3).
  const std::string top = read_text(out + "/A/scgen+pathway-attention-hard/seed0/attention_top_genes.csv");
  CHECK(contains(top, "pathway,rank,gene,mean_attention\n"));
  CHECK(contains(top, "\nUP,3,"));
  CHECK_FALSE(contains(top, "\nUP,4,"));
  CHECK_FALSE(fs::exists(out + "/A/scgen+pathway-attention-hard/seed0/soft_mask_links.csv"));
  CHECK(contains(read_text(out + "/A/scgen+pathway-attention-soft/seed0/soft_mask_links.csv"),
                 "pathway,gene,change,gate\n"));
  CHECK_FALSE(fs::exists(out + "/A/scgen+masked-linear/seed0/attention_top_genes.csv"));
  // The picture: real and predicted bars per pathway.
  const std::string svg = read_text(out + "/A/shift/seed0/pathways_A.svg");
  CHECK(contains(svg, "<svg"));
  CHECK(contains(svg, ">UP</text>"));
  CHECK(contains(svg, ">predicted</text>"));
}

TEST_CASE("predict_perturbation: encoder lists that cannot run are refused in one line") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), gmt = tmp.file("sets.gmt"), out = tmp.file("run");
  write_data(data, standard_cells());
  write_text(gmt, kGmt);
  const std::string sets = " --gene-sets " + gmt + " --min-genes-present 2";
  SUBCASE("an encoder listed twice") {
    check_refused(run(tmp, base_args(data, out, "A", "scgen") + " --encoder mlp,mlp" + sets), out,
                  {"--encoder: 'mlp' is listed twice"});
  }
  SUBCASE("an unknown encoder in the list") {
    check_refused(run(tmp, base_args(data, out, "A", "scgen") + " --encoder mlp,dense" + sets), out,
                  {"--encoder: expected mlp, masked-linear or pathway-attention, found 'dense'"});
  }
  SUBCASE("several masks without pathway-attention") {
    check_refused(run(tmp, base_args(data, out, "A", "scgen") + " --encoder mlp,masked-linear --mask hard,soft" + sets),
                  out, {"--mask soft: applies to --encoder pathway-attention"});
  }
  SUBCASE("train takes one encoder") {
    check_refused(run(tmp, "train --data " + data + " --model scgen --seed 0 --device cpu --epochs 1 --out " + out +
                               " --encoder mlp,masked-linear" + sets),
                  out, {"train trains one encoder"});
  }
}
