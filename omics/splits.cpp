#include "omics/splits.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "omics/error.h"
#include "omics/rng.h"

namespace cg::omics {
namespace {

void check_same_length(const std::vector<std::string>& a, const std::vector<std::string>& b, const char* what) {
  if (a.size() != b.size()) {
    std::ostringstream os;
    os << what << ": cell-type labels have " << a.size() << " entries but condition labels have " << b.size();
    throw DataError(os.str());
  }
}

std::string join_sorted(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
  return out;
}

}  // namespace

LeaveOutSplit leave_one_type_out(const std::vector<std::string>& cell_types, const std::vector<std::string>& conditions,
                                 const std::string& control_value, const std::string& held_out_type) {
  check_same_length(cell_types, conditions, "leave_one_type_out");
  LeaveOutSplit s;
  std::set<std::string> present;
  for (size_t i = 0; i < cell_types.size(); ++i) {
    present.insert(cell_types[i]);
    const bool held = cell_types[i] == held_out_type;
    const bool ctrl = conditions[i] == control_value;
    if (held && !ctrl) {
      s.heldout_real.push_back(static_cast<int64_t>(i));
      continue;
    }
    s.train.push_back(static_cast<int64_t>(i));
    if (held) s.heldout_control.push_back(static_cast<int64_t>(i));
  }
  if (!present.count(held_out_type))
    throw DataError("leave_one_type_out: held-out cell type '" + held_out_type +
                    "' is not present; types present: " + join_sorted(present));
  if (s.heldout_control.empty())
    throw DataError("leave_one_type_out: cell type '" + held_out_type + "' has no control cells (condition == '" +
                    control_value + "')");
  if (s.heldout_real.empty())
    throw DataError("leave_one_type_out: cell type '" + held_out_type + "' has no perturbed cells (condition != '" +
                    control_value + "')");
  return s;
}

TrainValSplit stratified_train_val(const std::vector<std::string>& cell_types,
                                   const std::vector<std::string>& conditions, double validation_fraction,
                                   uint64_t seed) {
  check_same_length(cell_types, conditions, "train/validation split");
  if (!(validation_fraction > 0.0 && validation_fraction < 1.0))
    throw DataError("validation fraction must be in (0, 1), got " + std::to_string(validation_fraction));
  // std::map keeps groups in a fixed (sorted) order, so the RNG stream is consumed identically.
  std::map<std::pair<std::string, std::string>, IndexList> groups;
  for (size_t i = 0; i < cell_types.size(); ++i)
    groups[{cell_types[i], conditions[i]}].push_back(static_cast<int64_t>(i));
  SplitMix64 rng(seed);
  TrainValSplit s;
  for (auto& [key, idx] : groups) {
    fisher_yates(idx, rng);
    const auto n = static_cast<int64_t>(idx.size());
    const auto n_val = static_cast<int64_t>(std::floor(validation_fraction * n + 0.5));
    if (n_val == 0 || n_val == n) {
      std::ostringstream os;
      os << "cell type '" << key.first << "', condition '" << key.second << "': " << n << " cell"
         << (n == 1 ? "" : "s");
      s.whole_in_train.push_back(os.str());
      s.train.insert(s.train.end(), idx.begin(), idx.end());
      continue;
    }
    s.validation.insert(s.validation.end(), idx.begin(), idx.begin() + n_val);
    s.train.insert(s.train.end(), idx.begin() + n_val, idx.end());
  }
  if (s.validation.empty()) {
    std::ostringstream os;
    os << "train/validation split: no (cell type, condition) group is large enough for a validation fraction of "
       << validation_fraction << " to take a cell from it and leave one for training";
    throw DataError(os.str());
  }
  std::sort(s.train.begin(), s.train.end());
  std::sort(s.validation.begin(), s.validation.end());
  return s;
}

std::vector<IndexList> stratified_kfold(const std::vector<std::string>& labels, int k, uint64_t seed) {
  const auto n = static_cast<int64_t>(labels.size());
  if (k < 2 || k > n)
    throw DataError("k-fold split: need 2 <= k <= number of cells (" + std::to_string(n) +
                    "), got k = " + std::to_string(k));
  std::map<std::string, IndexList> groups;
  for (int64_t i = 0; i < n; ++i) groups[labels[static_cast<size_t>(i)]].push_back(i);
  SplitMix64 rng(seed);
  std::vector<IndexList> folds(static_cast<size_t>(k));
  int64_t pos = 0;
  for (auto& [label, idx] : groups) {
    fisher_yates(idx, rng);
    for (int64_t i : idx) folds[static_cast<size_t>(pos++ % k)].push_back(i);
  }
  for (auto& f : folds) std::sort(f.begin(), f.end());
  return folds;
}

IndexList complement(const IndexList& fold, int64_t n) {
  std::vector<char> in(static_cast<size_t>(n), 0);
  for (int64_t i : fold) {
    if (i < 0 || i >= n)
      throw DataError("complement: index " + std::to_string(i) + " outside [0, " + std::to_string(n) + ")");
    in[static_cast<size_t>(i)] = 1;
  }
  IndexList out;
  for (int64_t i = 0; i < n; ++i)
    if (!in[static_cast<size_t>(i)]) out.push_back(i);
  return out;
}

}  // namespace cg::omics
