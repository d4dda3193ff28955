// Gene-set readers, matching to a dataset's genes, the membership mask and the redundancy
// filter; counts on the shared files are checked against Python
// (scripts/reference_io.py --genesets -> tests/reference/geneset_facts.tsv).
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "omics/anndata.h"
#include "omics/genesets.h"
#include "tests/test_omics_io_util.h"
#include "tests/test_paths.h"

using namespace cg::omics;
using cg::test::contains;
using cg::test::data_error_of;
using cg::test::data_path;

namespace {

std::vector<std::string> kang_genes() {
  ReadOptions o;
  o.load_X = false;
  return read_h5ad(data_path("perturbation/kang_scgen_valid_lognorm.h5ad"), o).var.index;
}

double jaccard(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::vector<int64_t> inter;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(inter));
  const double uni = static_cast<double>(a.size() + b.size() - inter.size());
  return uni > 0 ? static_cast<double>(inter.size()) / uni : 0.0;
}

}  // namespace

TEST_CASE("shared gene-set files match the counts Python computes against the Kang genes") {
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad"})) return;
  std::ifstream in("tests/reference/geneset_facts.tsv");
  REQUIRE(in.good());
  std::map<std::string, std::map<std::string, std::string>> facts;
  std::string line;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string file, fact, value;
    std::getline(ss, file, '\t');
    std::getline(ss, fact, '\t');
    std::getline(ss, value);
    facts[file][fact] = value;
  }
  REQUIRE(facts.size() == 5);
  const auto genes = kang_genes();
  for (auto& [rel, f] : facts) {
    INFO(rel);
    if (!cg::test::have_data({rel})) continue;
    const bool progeny = rel.find(".tsv") != std::string::npos;
    auto sets = progeny ? progeny_sets(read_progeny(data_path(rel))) : read_gmt(data_path(rel));
    CHECK(std::to_string(sets.size()) == f["sets"]);
    CHECK(sets[0].id + " " + std::to_string(sets[0].genes.size()) == f["first_set"]);
    GeneMatch m = match_genes(genes, sets);
    CHECK(std::to_string(m.dataset_genes_matched) == f["genes_matched"]);
    CHECK(std::count_if(m.members.begin(), m.members.end(), [](auto& v) { return v.size() >= 10; }) ==
          std::stoll(f["sets_min10"]));
    for (auto& s : sets)
      for (auto& g : s.genes) REQUIRE((!g.empty() && g.back() != '\r'));  // CRLF stripped
  }
}

TEST_CASE("GMT parsing tolerates blank lines, CRLF and trailing tabs; rejects short lines with file and line") {
  cg::test::TempDir tmp;
  const std::string ok = tmp.file("ok.gmt");
  std::ofstream(ok, std::ios::binary) << "SET_A\tdesc a\tTP53\tmyc\t\r\n\r\n  \nSET_B\t\r\nSET_C\tc\tCD3E\n";
  auto sets = read_gmt(ok);
  REQUIRE(sets.size() == 3);
  CHECK(sets[0].id == "SET_A");
  CHECK(sets[0].description == "desc a");
  CHECK(sets[0].genes == std::vector<std::string>{"TP53", "myc"});
  CHECK(sets[1].genes.empty());
  CHECK(sets[2].genes == std::vector<std::string>{"CD3E"});

  const std::string bad = tmp.file("bad.gmt");
  std::ofstream(bad) << "SET_A\tdesc\tTP53\n\nONLY_ONE_FIELD\n";
  std::string msg = data_error_of([&] { read_gmt(bad); });
  CHECK(contains(msg, bad));
  CHECK(contains(msg, "line 3"));
  CHECK(contains(msg, "at least 2"));

  const std::string empty_id = tmp.file("empty_id.gmt");
  std::ofstream(empty_id) << "\tdesc\tTP53\n";
  CHECK(contains(data_error_of([&] { read_gmt(empty_id); }), "line 1"));
  CHECK(contains(data_error_of([&] { read_gmt(tmp.file("missing.gmt")); }), tmp.file("missing.gmt")));
}

TEST_CASE("PROGENy model: values, weight matrix and bad rows") {
  if (!cg::test::have_data({"pathways/progeny_model_human_top100.tsv"})) return;
  auto model = read_progeny(data_path("pathways/progeny_model_human_top100.tsv"));
  REQUIRE(model.size() == 1400);
  CHECK(model[0].gene == "TMPRSS2");
  CHECK(model[0].pathway == "Androgen");
  CHECK(model[0].weight == 11.4906307374);
  CHECK(model[0].p_value == 2.38480595753e-47);
  auto sets = progeny_sets(model);
  REQUIRE(sets.size() == 14);
  for (auto& s : sets) CHECK(s.genes.size() == 100);

  std::vector<std::string> genes = {"tmprss2", "NOPE", "NKX3-1"};
  std::vector<std::string> pathways;
  DenseMatrix w = progeny_weight_matrix(model, genes, &pathways);
  REQUIRE(w.rows() == 3);
  REQUIRE(w.cols() == 14);
  CHECK(pathways[0] == "Androgen");
  CHECK(w(0, 0) == static_cast<float>(11.4906307374));
  CHECK(w.row(1).isZero());
  CHECK(w(2, 0) == static_cast<float>(10.6225511027));

  cg::test::TempDir tmp;
  const std::string bad = tmp.file("bad.tsv");
  std::ofstream(bad) << "gene\tpathway\tweight\tp.value\r\nA\tP\t1.5\t0.01\r\nB\tP\tlots\t0.5\r\n";
  std::string msg = data_error_of([&] { read_progeny(bad); });
  CHECK(contains(msg, bad));
  CHECK(contains(msg, "line 3"));
  CHECK(contains(msg, "weight"));
  const std::string nohdr = tmp.file("nohdr.tsv");
  std::ofstream(nohdr) << "gene\tpathway\tscore\n";
  CHECK(contains(data_error_of([&] { read_progeny(nohdr); }), "'weight'"));
}

TEST_CASE("build_mask: membership, size filters, and clear errors") {
  const std::vector<std::string> genes = {"CD3E", "cd4", "MS4A1", "Gapdh", "CD3E"};  // CD3E twice
  const std::vector<GeneSet> sets = {
      {"T", "", {"cd3e", "CD4", "CD8A", "CD4"}},  // 3 distinct listed, 2 symbols present (CD3E twice)
      {"B", "", {"MS4A1", "CD19"}},
      {"none", "", {"XIST"}},
      {"big", "", {"CD3E", "CD4", "MS4A1", "GAPDH", "ACTB", "B2M"}},
  };
  GeneMatch m = match_genes(genes, sets);
  CHECK(m.members[0] == std::vector<int64_t>{0, 1, 4});
  CHECK(m.set_sizes[0] == 3);
  CHECK(m.dataset_genes_matched == 5);
  CHECK(m.set_genes_matched == 4);
  CHECK(contains(m.summary(), "5 of 5 dataset genes"));

  GeneSetMask mask = build_mask(genes, sets, MaskOptions{}, "test.gmt");
  CHECK(mask.set_ids == std::vector<std::string>{"T", "B", "big"});
  CHECK(mask.n_genes == 5);
  CHECK(mask.n_sets == 3);
  CHECK(mask.at(4, 0) == 1);
  CHECK(mask.at(2, 0) == 0);
  CHECK(mask.at(2, 1) == 1);
  DenseMatrix d = mask.to_dense();
  CHECK(d.col(2).sum() == 5);  // every dataset gene in "big"
  CHECK(d.sum() == 3 + 1 + 5);

  MaskOptions o;
  o.min_set_size = 3;
  o.max_set_size = 5;
  o.min_genes_present = 2;
  mask = build_mask(genes, sets, o, "test.gmt");
  CHECK(mask.set_ids == std::vector<std::string>{"T"});
  CHECK(mask.set_index == std::vector<size_t>{0});
  CHECK(mask.genes_covered == 3);

  std::string msg = data_error_of([&] {
    build_mask({"Actb", "Gapdh"}, {{"s", "", {"XIST", "TP53"}}}, {}, "human.gmt");
  });
  CHECK(contains(msg, "human.gmt"));
  CHECK(contains(msg, "none of the 2 genes"));
  o.min_genes_present = 100;
  msg = data_error_of([&] { build_mask(genes, sets, o, "test.gmt"); });
  CHECK(contains(msg, "test.gmt"));
  CHECK(contains(msg, "no gene set passes"));
}

TEST_CASE("genes named <genome>_<symbol> (Cell Ranger's multi-genome references) match the sets' symbols") {
  // ECCITE's RNA genes are hg19_CD3E, ...; a mouse one mm10_Cd19; an unknown prefix stays as it is.
  const std::vector<std::string> genes = {"hg19_CD3E", "hg19_MS4A1", "mm10_Cd19", "GRCh38-CD4", "xx_CD8A", "hg19_"};
  const std::vector<GeneSet> sets = {{"T", "", {"CD3E", "CD4", "CD8A"}}, {"B", "", {"MS4A1", "CD19"}}};
  const GeneMatch m = match_genes(genes, sets);
  CHECK(m.members[0] == std::vector<int64_t>{0, 3});
  CHECK(m.members[1] == std::vector<int64_t>{1, 2});
  CHECK(m.dataset_genes_matched == 4);
  // The full name still matches a set that lists it.
  CHECK(match_genes(genes, {{"X", "", {"xx_cd8a"}}}).members[0] == std::vector<int64_t>{4});
}

TEST_CASE("redundancy filter: Jaccard single linkage keeps the largest set per cluster") {
  auto range = [](int64_t a, int64_t b) {
    std::vector<int64_t> v;
    for (int64_t i = a; i < b; ++i) v.push_back(i);
    return v;
  };
  // X~Y (8/12) and Y~Z (8/12) but X, Z only 6/14: single linkage puts all three together.
  std::vector<std::vector<int64_t>> sets = {range(0, 10),    range(2, 12),    range(4, 14),   range(100, 110),
                                            range(100, 111), range(200, 210), range(205, 215)};
  CHECK(nonredundant_sets(sets, 0.5) == std::vector<size_t>{0, 4, 5, 6});
  CHECK(nonredundant_sets(sets, 0.95) == std::vector<size_t>{0, 1, 2, 3, 4, 5, 6});
  CHECK(nonredundant_sets(sets, 0.0) == std::vector<size_t>{0, 4, 5});  // sets sharing no gene never link

  // Random sets against a brute-force reference.
  std::mt19937 rng(7);
  std::vector<std::vector<int64_t>> rs;
  for (int s = 0; s < 120; ++s) {
    std::vector<int64_t> v;
    const int64_t base = rng() % 40, len = 3 + rng() % 15;
    for (int64_t i = 0; i < len; ++i) v.push_back(base + static_cast<int64_t>(rng() % 25));
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    rs.push_back(v);
  }
  const size_t n = rs.size();
  std::vector<size_t> label(n);
  for (size_t i = 0; i < n; ++i) label[i] = i;
  bool changed = true;
  while (changed) {  // connected components by repeated relaxation
    changed = false;
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j)
        if (i != j && jaccard(rs[i], rs[j]) >= 0.5 && label[j] > label[i]) {
          label[j] = label[i];
          changed = true;
        }
  }
  std::map<size_t, size_t> best;
  for (size_t s = 0; s < n; ++s) {
    auto it = best.find(label[s]);
    if (it == best.end()) best[label[s]] = s;
    else if (rs[s].size() > rs[it->second].size()) it->second = s;
  }
  std::vector<size_t> want;
  for (auto& [l, s] : best) want.push_back(s);
  std::sort(want.begin(), want.end());
  CHECK(nonredundant_sets(rs, 0.5) == want);
  CHECK(want.size() < n);
  CHECK(want.size() > 1);
}

TEST_CASE("GO mask for the Kang genes, then NetActivity-style redundancy removal") {
  if (!cg::test::have_data(
          {"perturbation/kang_scgen_valid_lognorm.h5ad", "pathways/GO_BP_propagated_size15-500_symbols.gmt"}))
    return;
  const auto genes = kang_genes();
  auto sets = read_gmt(data_path("pathways/GO_BP_propagated_size15-500_symbols.gmt"));
  MaskOptions o;
  o.min_genes_present = 10;
  GeneSetMask mask = build_mask(genes, sets, o, "GO_BP_propagated");
  CHECK(mask.n_sets == 3365);
  CHECK(mask.n_genes == 6998);
  GeneSetMask kept = drop_redundant(mask, 0.5);
  CHECK(kept.n_sets < mask.n_sets);
  CHECK(kept.n_sets > 100);
  // No two kept sets are near-duplicates (they would have been linked into one cluster).
  for (int64_t i = 0; i < kept.n_sets; ++i)
    for (int64_t j = i + 1; j < kept.n_sets; ++j)
      if (jaccard(kept.members[i], kept.members[j]) >= 0.5)
        FAIL("kept sets " << kept.set_ids[i] << " and " << kept.set_ids[j]);
  // Kept sets keep their identity and their mask columns.
  for (int64_t s = 0; s < kept.n_sets; ++s) {
    REQUIRE(kept.set_ids[s] == sets[kept.set_index[s]].id);
    for (int64_t g : kept.members[s]) REQUIRE(kept.at(g, s) == 1);
  }
  MESSAGE("GO sets with >= 10 Kang genes: " << mask.n_sets << ", after Jaccard >= 0.5 filter: " << kept.n_sets);
}
