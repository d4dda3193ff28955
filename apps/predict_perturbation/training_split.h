#pragma once
// What benchmark and train share: the train/validation split of the training cells (stratified
// by cell type and condition; a group too small to split goes wholly into training, with a
// note) and the training of every network the chosen models name, once each.
#include <map>
#include <string>
#include <vector>

#include "apps/predict_perturbation/data.h"
#include "apps/predict_perturbation/model_registry.h"

namespace cg::perturb {

struct TrainingSplit {
  std::vector<int64_t> train, validation;  // rows of the data
};
TrainingSplit split_training_cells(const PerturbData& d, const std::vector<int64_t>& rows, double validation_fraction,
                                   uint64_t seed);

// --search-lr chooses on the validation cells of the training types only: the held-out type's
// validation share of controls leaves the validation set (unused, as validation cells are), so
// the training cells are the same with and without the search.
void drop_validation_of_type(TrainingSplit& split, const PerturbData& d, const std::string& type);

// Trains every network named by c.models (registry order); `label` goes after the network name
// in progress lines ("scgen CD4T seed 0"). With c.search_lr, each network is trained once per
// rate of its grid and the best kept (lr_search.h), its record in TrainedNetwork::lr_search.
std::map<std::string, TrainedNetwork> train_networks(const Config& c, const PerturbData& d,
                                                     const omics::DenseMatrix& conditions, Device device,
                                                     const std::string& label, uint64_t seed,
                                                     const TrainingSplit& split,
                                                     const std::string& progress_prefix = "");

}  // namespace cg::perturb
