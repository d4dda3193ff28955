#include "apps/train_multitask/splits.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "autograd/error.h"
#include "omics/error.h"
#include "omics/splits.h"

namespace cg::multitask {
namespace {

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::pair<std::vector<int64_t>, std::vector<int64_t>> stratified_holdout(const std::vector<int64_t>& rows,
                                                                         const std::vector<std::string>& strata,
                                                                         double fraction, uint64_t seed) {
  std::map<std::string, std::vector<int64_t>> groups;
  for (int64_t r : rows) groups[strata[static_cast<size_t>(r)]].push_back(r);
  uint64_t state = seed * 0x632be59bd9b4e019ULL + 17;
  std::vector<int64_t> first, second;
  for (auto& [name, g] : groups) {
    for (size_t i = g.size() - 1; i > 0; --i) std::swap(g[i], g[splitmix64(state) % (i + 1)]);
    const int64_t n = static_cast<int64_t>(g.size());
    const int64_t take = std::min<int64_t>(n - 1, std::llround(fraction * static_cast<double>(n)));
    second.insert(second.end(), g.begin(), g.begin() + take);
    first.insert(first.end(), g.begin() + take, g.end());
  }
  std::sort(first.begin(), first.end());
  std::sort(second.begin(), second.end());
  return {first, second};
}

std::vector<Split> make_splits(const Config& c, const Dataset& d) {
  const std::vector<std::string> strata = d.strata();
  std::vector<int64_t> all(static_cast<size_t>(d.cells()));
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  std::vector<Split> splits;
  auto finish = [&](Split s, const std::vector<int64_t>& rest) {
    auto [train, val] = stratified_holdout(rest, strata, c.validation_fraction, c.seed + 7919);
    s.train = std::move(train);
    s.validation = std::move(val);
    if (s.train.size() < 2 || s.validation.size() < 2 || s.test.size() < 1)
      throw Error(s.name + ": too few cells for training (" + std::to_string(s.train.size()) + "), validation (" +
                  std::to_string(s.validation.size()) + ") and test (" + std::to_string(s.test.size()) +
                  "); give more cells or larger --test-fraction / --validation-fraction");
    splits.push_back(std::move(s));
  };
  if (c.folds == 0) {
    auto [rest, test] = stratified_holdout(all, strata, c.test_fraction, c.seed);
    Split s;
    s.name = "holdout";
    s.test = std::move(test);
    finish(std::move(s), rest);
  } else {
    std::vector<std::vector<int64_t>> folds;
    try {
      folds = omics::stratified_kfold(strata, c.folds, c.seed);
    } catch (const omics::DataError& e) {
      throw Error(std::string("--folds: ") + e.what());
    }
    for (int f = 0; f < c.folds; ++f) {
      if (c.fold >= 0 && f != c.fold) continue;
      Split s;
      s.name = "fold" + std::to_string(f);
      s.test = folds[static_cast<size_t>(f)];
      std::sort(s.test.begin(), s.test.end());
      const std::vector<int64_t> rest = omics::complement(s.test, d.cells());
      finish(std::move(s), rest);
    }
  }
  return splits;
}

}  // namespace cg::multitask
