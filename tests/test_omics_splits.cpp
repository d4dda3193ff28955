// Splits: leave-one-type-out on Kang, stratified train/validation, stratified k-fold on the
// Patch-seq labels (448 cells, 27 types), determinism and error messages.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>

#include "omics/anndata.h"
#include "omics/error.h"
#include "omics/rng.h"
#include "omics/splits.h"
#include "tests/test_paths.h"

using namespace cg::omics;

namespace {

struct Labels {
  std::vector<std::string> type, cond;
};
const Labels& kang() {
  static const Labels l = [] {
    ReadOptions o;
    o.load_X = false;
    const auto a = read_h5ad(cg::test::data_path("perturbation/kang_scgen_valid_lognorm.h5ad"), o);
    return Labels{a.obs.columns.at("cell_type").labels(), a.obs.columns.at("condition").labels()};
  }();
  return l;
}

}  // namespace

TEST_CASE("SplitMix64 is the published sequence and Fisher-Yates is a fixed permutation") {
  SplitMix64 r(1234567);
  // Reference values of splitmix64 seeded with 1234567 (from the reference C implementation).
  CHECK(r.next() == 6457827717110365317ULL);
  CHECK(r.next() == 3203168211198807973ULL);
  SplitMix64 a(7), b(7);
  std::vector<int> v(50), w(50);
  for (int i = 0; i < 50; ++i) v[i] = w[i] = i;
  fisher_yates(v, a);
  fisher_yates(w, b);
  CHECK(v == w);
  std::vector<int> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) CHECK(sorted[i] == i);
  CHECK(v != sorted);
  SplitMix64 c(3);
  for (int i = 0; i < 1000; ++i) CHECK(c.below(7) < 7);
}

TEST_CASE("leave one cell type out on Kang") {
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad"})) return;
  const auto& k = kang();
  const auto s = leave_one_type_out(k.type, k.cond, "control", "CD4T");
  CHECK(s.heldout_control.size() == 278);
  CHECK(s.heldout_real.size() == 356);
  CHECK(s.train.size() == k.type.size() - 356);
  for (int64_t i : s.heldout_real) {
    CHECK(k.type[i] == "CD4T");
    CHECK(k.cond[i] == "stimulated");
  }
  std::set<int64_t> train(s.train.begin(), s.train.end());
  for (int64_t i : s.heldout_real) CHECK(!train.count(i));
  for (int64_t i : s.heldout_control) CHECK(train.count(i));
  CHECK(std::is_sorted(s.train.begin(), s.train.end()));
}

TEST_CASE("leave one type out: errors name what is wrong") {
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad"})) return;
  const auto& k = kang();
  CHECK_THROWS_WITH_AS(leave_one_type_out(k.type, k.cond, "control", "T cells"),
                       doctest::Contains("B, CD14+Mono, CD4T, CD8T, Dendritic, FCGR3A+Mono, NK"), DataError);
  CHECK_THROWS_WITH_AS(leave_one_type_out({"A", "A", "B"}, {"stim", "stim", "ctrl"}, "ctrl", "A"),
                       doctest::Contains("no control cells"), DataError);
  CHECK_THROWS_WITH_AS(leave_one_type_out({"A", "B"}, {"ctrl", "stim"}, "ctrl", "A"),
                       doctest::Contains("no perturbed cells"), DataError);
  CHECK_THROWS_AS(leave_one_type_out({"A"}, {"ctrl", "stim"}, "ctrl", "A"), DataError);
}

TEST_CASE("stratified train/validation split by (type, condition)") {
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad"})) return;
  const auto& k = kang();
  const auto s = stratified_train_val(k.type, k.cond, 0.2, 42);
  CHECK(s.train.size() + s.validation.size() == k.type.size());
  std::map<std::pair<std::string, std::string>, std::pair<int, int>> n;  // (val, total)
  for (int64_t i : s.validation) n[{k.type[i], k.cond[i]}].first++;
  for (size_t i = 0; i < k.type.size(); ++i) n[{k.type[i], k.cond[i]}].second++;
  CHECK(n.size() == 14);
  for (const auto& [g, c] : n) CHECK(c.first == static_cast<int>(std::floor(0.2 * c.second + 0.5)));
  std::vector<int64_t> all = s.train;
  all.insert(all.end(), s.validation.begin(), s.validation.end());
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < all.size(); ++i) CHECK(all[i] == static_cast<int64_t>(i));
  // Deterministic for a seed, different for another.
  CHECK(stratified_train_val(k.type, k.cond, 0.2, 42).validation == s.validation);
  CHECK(stratified_train_val(k.type, k.cond, 0.2, 43).validation != s.validation);
}

TEST_CASE("stratified train/validation: a group too small to split goes wholly into training") {
  const auto s = stratified_train_val({"A", "A", "A", "B", "A"}, {"c", "c", "c", "c", "c"}, 0.2, 1);
  CHECK(s.validation.size() == 1);                                       // round(0.2 * 4) of the A cells
  CHECK(std::find(s.train.begin(), s.train.end(), 3) != s.train.end());  // B's one cell
  REQUIRE(s.whole_in_train.size() == 1);
  CHECK(s.whole_in_train[0] == "cell type 'B', condition 'c': 1 cell");
  // Without the small group the A cells split the same way (sizes; B is shuffled after A).
  const auto without = stratified_train_val({"A", "A", "A", "A"}, {"c", "c", "c", "c"}, 0.2, 1);
  CHECK(without.whole_in_train.empty());
  CHECK(without.validation.size() == 1);
  // Nothing can be validated on: an error.
  CHECK_THROWS_WITH_AS(stratified_train_val({"A", "B"}, {"c", "c"}, 0.2, 1), doctest::Contains("no (cell type"),
                       DataError);
  CHECK_THROWS_AS(stratified_train_val({"A", "A"}, {"c", "c"}, 1.0, 1), DataError);
}

TEST_CASE("stratified 5-fold CV on Patch-seq types (448 cells, 27 types)") {
  if (!cg::test::have_data({"crossmodal/unitednet_patchseq_RNA_TEM.h5ad"})) return;
  ReadOptions o;
  o.load_X = false;
  const auto a = read_h5ad(cg::test::data_path("crossmodal/unitednet_patchseq_RNA_TEM.h5ad"), o);
  const auto labels = a.obs.columns.at("cell_type_TEM").labels();
  REQUIRE(labels.size() == 448);
  const auto folds = stratified_kfold(labels, 5, 0);
  REQUIRE(folds.size() == 5);
  std::vector<int> seen(448, 0);
  for (const auto& f : folds) {
    CHECK((f.size() == 89 || f.size() == 90));
    for (int64_t i : f) seen[i]++;
  }
  for (int c : seen) CHECK(c == 1);
  std::map<std::string, std::vector<int>> per;  // label -> count per fold
  for (size_t f = 0; f < 5; ++f)
    for (int64_t i : folds[f]) {
      auto& v = per[labels[i]];
      v.resize(5);
      v[f]++;
    }
  CHECK(per.size() == 27);
  for (auto& [l, v] : per) {
    v.resize(5);
    CHECK(*std::max_element(v.begin(), v.end()) - *std::min_element(v.begin(), v.end()) <= 1);
  }
  const auto train0 = complement(folds[0], 448);
  CHECK(train0.size() + folds[0].size() == 448);
  CHECK(stratified_kfold(labels, 5, 0) == folds);
  CHECK_THROWS_AS(stratified_kfold(labels, 1, 0), DataError);
  CHECK_THROWS_AS(stratified_kfold({"a", "b"}, 3, 0), DataError);
}
