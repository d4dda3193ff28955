// train_multitask's pathway encoders (--encoder NAME=masked-linear|pathway-attention, --gene-sets
// NAME=FILE): every model trains with every encoder kind on small synthetic modalities, writes
// every cell's pathway activities (pathways_<NAME>.h5ad, obsm X_pathways, names in uns), saves the
// selected sets in its model folder so that predict needs no GMT and reproduces the run bit for
// bit; bad settings and gene sets are refused in one line with no output.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "omics/anndata.h"
#include "tests/app_runner.h"
#include "tests/multitask_fixtures.h"

namespace fs = std::filesystem;
using cg::test::TempDir;
using cg::test::multitask::cell_names;
using cg::test::multitask::write_modality;

namespace {

cg::test::AppResult run(const TempDir& tmp, const std::string& args) {
  return cg::test::run_app("train_multitask", tmp, args);
}

// Gene sets over A's features f0..f19: three that match (one listing a gene A lacks) and one
// that matches nothing (dropped by the selection).
std::string write_gmt(const TempDir& tmp) {
  const std::string path = tmp.file("sets.gmt");
  std::ofstream f(path);
  f << "SET_LOW\tfirst genes\tf0\tf1\tf2\tf3\tf4\tf5\n"
    << "SET_MID\tmiddle genes\tf4\tf5\tf6\tf7\tf8\tf9\tf10\tf11\tNOT_THERE\n"
    << "SET_HIGH\tlast genes\tF12\tf13\tf14\tf15\tf16\tf17\tf18\tf19\n"  // case-insensitive match
    << "SET_NONE\tno gene of A\tx1\tx2\tx3\n";
  return path;
}

// Two paired modalities of 60 cells: A (20 features, the "genes") and B (6 features).
std::string files(const TempDir& tmp) {
  write_modality(tmp.file("a.h5ad"), cell_names(60), 20, 3);
  write_modality(tmp.file("b.h5ad"), cell_names(60), 6, 3, 0, "p");
  return "--modality A=" + tmp.file("a.h5ad") + " --modality B=" + tmp.file("b.h5ad");
}

// The same rows by obs name, bit for bit.
bool same_rows(const cg::omics::AnnData& a, const cg::omics::DenseMatrix& x, const cg::omics::AnnData& b,
               const cg::omics::DenseMatrix& y) {
  std::map<std::string, int64_t> row;
  for (size_t i = 0; i < b.obs.index.size(); ++i) row[b.obs.index[i]] = static_cast<int64_t>(i);
  if (x.cols() != y.cols()) return false;
  for (size_t i = 0; i < a.obs.index.size(); ++i) {
    if (!row.count(a.obs.index[i])) return false;
    if (x.row(static_cast<int64_t>(i)) != y.row(row[a.obs.index[i]])) return false;
  }
  return true;
}

// An app error: a non-zero exit, exactly one line holding every part of `expected`, no output.
void check_refused(const cg::test::AppResult& r, const std::vector<std::string>& expected, const TempDir& tmp,
                   const std::string& out) {
  INFO(r.output);
  CHECK(r.code != 0);
  CHECK(r.output.rfind("train_multitask: error: ", 0) == 0);
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  for (const auto& e : expected) CHECK_MESSAGE(r.output.find(e) != std::string::npos, e);
  CHECK_FALSE(fs::exists(out));
  for (const auto& e : fs::directory_iterator(tmp.path))
    CHECK_MESSAGE(e.path().filename().string().find(".cellgrad-") == std::string::npos, e.path());
}

}  // namespace

TEST_CASE(
    "train_multitask --encoder: unitednet, scbutterfly and mlp train with each encoder kind, write every cell's "
    "pathway activities, and a reloaded model predicts them and its translations bit for bit") {
  if (!cg::test::have_app("train_multitask")) return;
  struct Kind {
    const char* encoder;
    const char* extra;
  };
  for (const char* model : {"unitednet", "scbutterfly", "mlp"})
    for (const Kind& k : {Kind{"mlp", ""}, Kind{"masked-linear", ""}, Kind{"pathway-attention", "--heads 2 --embed 8"},
                          Kind{"pathway-attention", "--mask soft --heads 2 --embed 8"}}) {
      const std::string encoder = k.encoder;
      CAPTURE(std::string(model));
      CAPTURE(encoder + " " + k.extra);
      TempDir tmp;
      const std::string out = tmp.file("run"), saved = tmp.file("saved"), gmt = write_gmt(tmp);
      const bool pathways = encoder != "mlp";
      const std::string sets = pathways ? " --gene-sets A=" + gmt : "";
      const std::string epochs = std::string(model) == "scbutterfly" ? "--pretrain-epochs 2 --epochs 2" : "--epochs 3";
      const auto r = run(tmp, files(tmp) + " --model " + model + " " + epochs + " --encoder A=" + encoder + sets + " " +
                                  k.extra + " --min-genes-present 2 --baselines none --device cpu --seed 3 --out " +
                                  out + " --save-model " + saved);
      REQUIRE_MESSAGE(r.code == 0, r.output);
      const nlohmann::json spec = cg::test::read_json(saved + "/model.json")["spec"];
      if (!pathways) {
        CHECK_FALSE(spec.contains("gene_encoders"));
        CHECK_FALSE(fs::exists(out + "/pathways_A.h5ad"));
        continue;
      }
      CHECK_MESSAGE(r.output.find("--gene-sets A: 3 of 4 gene sets kept") != std::string::npos, r.output);
      REQUIRE(spec["gene_encoders"].size() == 2);
      CHECK(spec["gene_encoders"][1].is_null());  // B keeps the mlp encoder
      const nlohmann::json& enc = spec["gene_encoders"][0];
      CHECK(enc["kind"] == encoder);
      CHECK(enc["pathways"] == nlohmann::json({"SET_LOW", "SET_MID", "SET_HIGH"}));
      CHECK(enc["members"][2] == nlohmann::json({12, 13, 14, 15, 16, 17, 18, 19}));
      if (std::string(k.extra).find("soft") != std::string::npos) CHECK(enc["mask"] == "soft");

      const cg::omics::AnnData trained = cg::omics::read_h5ad(out + "/pathways_A.h5ad");
      CHECK(trained.n_obs() == 60);  // every cell, whatever its split
      CHECK(trained.obs.has("split"));
      const cg::omics::DenseMatrix& act = trained.obsm.at("X_pathways");
      CHECK(act.cols() == 3);
      CHECK(act.allFinite());
      CHECK(act.cwiseAbs().maxCoeff() > 0);
      CHECK(trained.uns.at("pathways").strings == std::vector<std::string>{"SET_LOW", "SET_MID", "SET_HIGH"});
      CHECK(trained.var.index == trained.uns.at("pathways").strings);

      // The saved folder needs no GMT: predict from both files, the run's own numbers.
      fs::remove(gmt);
      const std::string pred = tmp.file("pred");
      const auto p = run(tmp, "predict --model " + saved + " --modality A=" + tmp.file("a.h5ad") +
                                  " --modality B=" + tmp.file("b.h5ad") + " --device cpu --out " + pred);
      REQUIRE_MESSAGE(p.code == 0, p.output);
      const cg::omics::AnnData predicted = cg::omics::read_h5ad(pred + "/pathways/A.h5ad");
      CHECK(same_rows(trained, act, predicted, predicted.obsm.at("X_pathways")));
      CHECK_FALSE(fs::exists(pred + "/pathways/B.h5ad"));
      const cg::omics::AnnData t = cg::omics::read_h5ad(out + "/translated_A_to_B.h5ad");
      const cg::omics::AnnData q = cg::omics::read_h5ad(pred + "/translations/A_to_B.h5ad");
      CHECK(same_rows(t, t.X.to_dense(), q, q.X.to_dense()));
    }
}

TEST_CASE("train_multitask --encoder: a pathway encoder on B, the non-gene modality, with A's gene sets") {
  if (!cg::test::have_app("train_multitask")) return;
  TempDir tmp;
  const std::string out = tmp.file("run");
  // Gene sets that name B's features do work: the encoder is per modality, not RNA-only.
  std::ofstream(tmp.file("b.gmt")) << "B_ONE\t\tp0\tp1\tp2\nB_TWO\t\tp3\tp4\tp5\n";
  const auto r = run(tmp, files(tmp) + " --encoder B=masked-linear --gene-sets B=" + tmp.file("b.gmt") +
                              " --min-genes-present 2 --epochs 2 --baselines none --device cpu --out " + out);
  REQUIRE_MESSAGE(r.code == 0, r.output);
  CHECK(cg::omics::read_h5ad(out + "/pathways_B.h5ad").obsm.at("X_pathways").cols() == 2);
  CHECK_FALSE(fs::exists(out + "/pathways_A.h5ad"));
}

TEST_CASE("train_multitask --encoder: bad settings and gene sets are one line, a non-zero exit and no output") {
  if (!cg::test::have_app("train_multitask")) return;
  TempDir tmp;
  const std::string base = files(tmp) + " --epochs 2 --device cpu ", out = tmp.file("out"), gmt = write_gmt(tmp);
  std::ofstream(tmp.file("human.gmt")) << "HALLMARK_A\tx\tCD3E\tCD4\tCD8A\nHALLMARK_B\tx\tMS4A1\tCD19\n";
  std::ofstream(tmp.file("broken.gmt")) << "SET_LOW\tx\tf0\tf1\nonly_an_id\n";
  struct Case {
    const char* name;
    std::string args;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"unknown kind", "--encoder A=transformer",
       {"--encoder A: expected mlp, masked-linear or pathway-attention, found 'transformer'"}},
      {"pathway encoder without gene sets", "--encoder A=pathway-attention",
       {"--encoder A=pathway-attention: needs --gene-sets A=FILE"}},
      {"gene sets for a modality with the mlp encoder", "--gene-sets B=" + gmt,
       {"--gene-sets B: the modality's encoder is mlp"}},
      {"no set gene among the features", "--encoder A=masked-linear --gene-sets A=" + tmp.file("human.gmt"),
       {"--gene-sets A ", "none of the 5 genes in 2 gene sets is among the 20 dataset genes", "CD3E"}},
      {"a non-gene modality that matches nothing", "--encoder B=pathway-attention --gene-sets B=" + gmt,
       {"--gene-sets B ", "none of the 24 genes in 4 gene sets is among the 6 dataset genes"}},
      {"no set passes the selection", "--encoder A=masked-linear --gene-sets A=" + gmt + " --min-genes-present 50",
       {"no gene set passes the filters", "at least 50 dataset genes present"}},
      {"malformed gene-set file", "--encoder A=masked-linear --gene-sets A=" + tmp.file("broken.gmt"),
       {"--gene-sets A: ", "broken.gmt: line 2"}},
      {"--mask soft without gene sets", "--mask soft", {"--mask soft: needs --gene-sets NAME=FILE"}},
      {"--mask soft with a masked-linear encoder only", "--encoder A=masked-linear --gene-sets A=" + gmt + " --mask soft",
       {"--mask soft: applies to pathway-attention encoders"}},
      {"--mask unknown", "--mask fuzzy", {"--mask: expected hard or soft, found 'fuzzy'"}},
      {"embed not divisible by heads", "--encoder A=pathway-attention --gene-sets A=" + gmt + " --heads 4 --embed 6",
       {"--embed 6 is not divisible by --heads 4"}},
      {"encoder of an unknown modality", "--encoder C=masked-linear", {"--encoder: 'C' is not a modality"}},
      {"gene sets file missing", "--encoder A=masked-linear --gene-sets A=" + tmp.file("absent.gmt"),
       {"absent.gmt", "cannot open"}},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.name));
    check_refused(run(tmp, base + c.args + " --out " + out), c.expected, tmp, out);
  }
}
