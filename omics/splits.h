#pragma once
// Cell-level splits for the perturbation and classification protocols. Every split returns
// row indices (ascending) into the original cell order; labels are the obs columns as strings.
#include <cstdint>
#include <string>
#include <vector>

namespace cg::omics {

using IndexList = std::vector<int64_t>;

// Leave one cell type out (scGen protocol): the model never sees the held-out type's
// perturbed cells; at evaluation its controls are pushed through the model and compared
// with its real perturbed cells.
struct LeaveOutSplit {
  IndexList train;            // every cell except the held-out type's perturbed cells
  IndexList heldout_control;  // held-out type, condition == control (also part of train)
  IndexList heldout_real;     // held-out type, condition != control (the truth to predict)
};

// Throws DataError when the type is absent (listing the types present), when it has no
// control cells or no perturbed cells, or when the label vectors differ in length.
LeaveOutSplit leave_one_type_out(const std::vector<std::string>& cell_types, const std::vector<std::string>& conditions,
                                 const std::string& control_value, const std::string& held_out_type);

struct TrainValSplit {
  IndexList train, validation;
  // Groups too small to split ("cell type 'X', condition 'c': 2 cells"), wholly in train.
  std::vector<std::string> whole_in_train;
};

// Stratified by the (cell type, condition) pair: inside every group the cells are shuffled
// (SplitMix64 + Fisher-Yates, so identical on every platform) and round(fraction * n)
// of them go to validation. A group too small to give both parts a cell (round(fraction * n)
// is 0 or n) goes wholly into train and is listed in whole_in_train, so that one rare
// category never stops a run; the other groups' splits do not change (the RNG stream is
// consumed the same way).
TrainValSplit stratified_train_val(const std::vector<std::string>& cell_types,
                                   const std::vector<std::string>& conditions, double validation_fraction,
                                   uint64_t seed);

// Stratified k-fold: each label's cells are shuffled, the shuffled lists are concatenated in
// sorted-label order and cell i of that sequence goes to fold i mod k. Fold sizes then differ
// by at most one and every label's count per fold differs by at most one (a label with fewer
// than k cells is simply absent from some folds, as sklearn allows with a warning).
// Returns the validation indices of each fold; throws when k < 2 or k > number of cells.
std::vector<IndexList> stratified_kfold(const std::vector<std::string>& labels, int k, uint64_t seed);

// The complement of a fold: all indices in [0, n) not in `fold` (ascending).
IndexList complement(const IndexList& fold, int64_t n);

}  // namespace cg::omics
