#pragma once
// Test / validation / training cells of a run. Test cells are held out before anything is
// fitted (preprocessing statistics included) and never enter training; the validation cells,
// drawn from the remaining ones, choose the early-stopping epoch and the best checkpoint.
#include <cstdint>
#include <string>
#include <vector>

#include "apps/train_multitask/config.h"
#include "apps/train_multitask/data.h"

namespace cg::multitask {

struct Split {
  std::string name;                              // "holdout" or "fold<i>"
  std::vector<int64_t> train, validation, test;  // ascending, disjoint
};

// Each stratum's cells are shuffled with the seed and round(fraction * n) of them go to the
// second set, but at least one cell of every stratum stays in the first (so every class is
// learned). Returns {first, second}, ascending.
std::pair<std::vector<int64_t>, std::vector<int64_t>> stratified_holdout(const std::vector<int64_t>& rows,
                                                                         const std::vector<std::string>& strata,
                                                                         double fraction, uint64_t seed);

// --test-fraction: one split; --folds K: fold i (or every fold when --fold is -1).
std::vector<Split> make_splits(const Config& c, const Dataset& d);

}  // namespace cg::multitask
