// predict_perturbation with gene sets: the pathway encoders of scgen (--encoder masked-linear |
// pathway-attention) train, are recorded and reload from a model folder; every model's
// prediction gets a pathway table (pathways_<type>.csv/.md) whose scores are checked on data
// with a known response; bad gene-set input is refused in one line with nothing written.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "omics/anndata.h"
#include "tests/predict_perturbation_fixtures.h"

using cg::test::TempDir;
using namespace cg::test::perturb;

namespace {

// Within each (type, condition) group of 12 cells the same values per gene (position i % 12),
// so the held-out type's real response is exactly +0.5 on genes g0..g4 and 0 elsewhere; a
// small per-type offset keeps types apart.
float exact_response_value(int64_t i, int j, const std::string& type, const std::string& condition) {
  const float base =
      0.2f + static_cast<float>(((i % 12) * 7 + j * 5) % 15) / 7.0f + 0.1f * static_cast<float>(type[0] - 'A');
  return base + (condition != "control" && j < 5 ? 0.5f : 0.0f);
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// UP: three responding genes (score 0.5); MIX: one responding, one not (0.25, upper-case symbol
// to check case-insensitive matching); FLAT: none (0); GONE: no gene in the data (dropped by
// --min-genes-present 2).
const std::string kGmt =
    "UP\tup genes\tg0\tg1\tg2\n"
    "MIX\tmixed\tG3\tg10\n"
    "FLAT\tno response\tg10\tg11\tg12\n"
    "GONE\tabsent\tXYZ1\tXYZ2\n";

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_text(path)); }

}  // namespace

TEST_CASE("predict_perturbation: masked-linear networks train; every model writes a pathway table with the real scores") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), gmt = tmp.file("sets.gmt"), out = tmp.file("run");
  write_data(data, standard_cells(), exact_response_value);
  write_text(gmt, kGmt);
  const Result r = run(tmp, base_args(data, out, "A", "scgen,mtae-fast,shift") +
                                " --epochs 2 --encoder masked-linear --gene-sets " + gmt + " --min-genes-present 2");
  REQUIRE_MESSAGE(r.code == 0, r.output);
  CHECK(contains(r.output, "3 of 4 gene sets kept"));
  const nlohmann::json config = read_json(out + "/config.json");
  CHECK(config.at("encoder") == "masked-linear");
  CHECK(contains(config.at("gene_sets").get<std::string>(), "sets.gmt"));
  CHECK(config.at("min_genes_present") == 2);

  // shift predicts the controls plus the other types' mean response: exactly the real one here.
  const std::string shift = read_text(out + "/A/shift/seed0/pathways_A.csv");
  INFO(shift);
  CHECK(contains(shift, "pathway,genes,real_score,predicted_score,real_rank,predicted_rank\n"));
  CHECK(contains(shift, "\nUP,3,0.5,0.5,1,1\n"));
  CHECK(contains(shift, "\nMIX,2,0.25,0.25,2,2\n"));
  CHECK_FALSE(contains(shift, "GONE"));
  CHECK(read_json(out + "/A/shift/seed0/metrics.json").at("pathway_pearson").get<double>() ==
        doctest::Approx(1.0).epsilon(1e-4));
  CHECK(contains(read_text(out + "/A/shift/seed0/pathways_A.md"), "| UP | 3 | 0.5 | 0.5 | 1 | 1 |"));
  // The network's table: same sets, same real scores, its own predictions.
  const std::string scgen = read_text(out + "/A/scgen/seed0/pathways_A.csv");
  CHECK(contains(scgen, "\nUP,3,0.5,"));
  CHECK(contains(scgen, "\nFLAT,3,"));
  CHECK(read_json(out + "/A/scgen/seed0/metrics.json").contains("pathway_pearson"));
  CHECK(contains(read_text(out + "/A/mtae-fast/seed0/pathways_A.csv"), "\nMIX,2,0.25,"));
}

TEST_CASE("predict_perturbation: a soft-mask pathway-attention scgen is saved with its gene sets and predicts again") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), gmt = tmp.file("sets.gmt"), out = tmp.file("run"),
                    saved = tmp.file("model"), pred = tmp.file("pred");
  write_data(data, standard_cells(), exact_response_value);
  write_text(gmt, kGmt);
  const Result t = run(tmp, "train --data " + data + " --model scgen --seed 0 --device cpu --epochs 2 --out " + out +
                                " --save-model " + saved + " --encoder pathway-attention --mask soft --heads 2 "
                                "--embed 4 --gene-sets " + gmt +
                                " --min-genes-present 2 --bootstrap 2 --pca-components 2 --top-degs 5");
  REQUIRE_MESSAGE(t.code == 0, t.output);
  const nlohmann::json config = read_json(saved + "/config.json");
  CHECK(config.at("encoder") == "pathway-attention");
  CHECK(config.at("mask") == "soft");
  const nlohmann::json enc = read_json(saved + "/model.json").at("gene_encoder");
  CHECK(enc.at("kind") == "pathway-attention");
  CHECK(enc.at("heads") == 2);
  CHECK(enc.at("members") == nlohmann::json::parse("[[0,1,2],[3,10],[10,11,12]]"));
  CHECK(enc.at("candidates").size() == 3);
  // Every trained cell's pathway activities beside its latent (issue 13 item 4).
  const cg::omics::AnnData latent = cg::omics::read_h5ad(out + "/latent.h5ad");
  REQUIRE(latent.obsm.count("X_pathways") == 1);
  CHECK(latent.obsm.at("X_pathways").rows() == 72);
  CHECK(latent.obsm.at("X_pathways").cols() == 3);
  CHECK(latent.uns.at("pathway_names").strings == std::vector<std::string>{"UP", "MIX", "FLAT"});
  // The weights hold the attention layer's parameters: predict must rebuild it from model.json
  // (the gene-set file is not read again) for them to load.
  fs::remove(gmt);
  const Result p = run(tmp, "predict --model " + saved + " --data " + data + " --cell-type A --device cpu --out " + pred);
  REQUIRE_MESSAGE(p.code == 0, p.output);
  CHECK(fs::exists(pred + "/predicted.h5ad"));
}

TEST_CASE("predict_perturbation: bad gene-set input is refused in one line, nothing written") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), gmt = tmp.file("sets.gmt"), out = tmp.file("run");
  write_data(data, standard_cells());

  SUBCASE("a gene-set file with no gene in the data says how many sets and genes it looked at") {
    write_text(gmt, "S1\td\tXYZ1\tXYZ2\nS2\td\tXYZ3\tXYZ1\n");
    check_refused(run(tmp, base_args(data, out) + " --gene-sets " + gmt), out,
                  {gmt, "none of the 3 genes in 2 gene sets is among the 20 dataset genes"});
  }
  SUBCASE("a malformed GMT line is named by its number") {
    write_text(gmt, "S1\td\tg0\tg1\nbroken-line-without-tabs\n");
    check_refused(run(tmp, base_args(data, out) + " --gene-sets " + gmt), out,
                  {gmt, "line 2", "expected at least 2 tab-separated fields"});
  }
  SUBCASE("--mask soft without --gene-sets") {
    check_refused(run(tmp, base_args(data, out, "A", "scgen") + " --encoder pathway-attention --mask soft"), out,
                  {"--mask soft: needs --gene-sets FILE"});
  }
  SUBCASE("--embed not divisible by --heads") {
    write_text(gmt, kGmt);
    check_refused(run(tmp, base_args(data, out, "A", "scgen") + " --encoder pathway-attention --gene-sets " + gmt +
                               " --embed 6 --heads 4"),
                  out, {"--embed 6 is not divisible by --heads 4"});
  }
  SUBCASE("a pathway encoder when only baselines are chosen") {
    write_text(gmt, kGmt);
    check_refused(run(tmp, base_args(data, out) + " --encoder masked-linear --gene-sets " + gmt), out,
                  {"--encoder masked-linear: applies to the trained networks", "the chosen models train none"});
  }
}
