#pragma once
// --search-lr: where a network's published rate was tuned on far more data than a run has, a
// small declared search picks it. Each rate of the network's grid (NetworkEntry::lr_grid) trains
// one model with everything else from the recipe (same seed, same split); the one with the
// lowest best-epoch validation loss is kept (ties: the smaller rate). The validation cells are
// split from the training cells, which never include the held-out type's perturbed cells
// (make_task), so the held-out truth plays no part in the choice. Within each training the
// step budget is already chosen on the same cells: nn::fit keeps the best validation epoch.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/predict_perturbation/model_registry.h"
#include "apps/predict_perturbation/table.h"

namespace cg::perturb {

// --search-lr with a rate given (--lr, or model_settings.<network>.lr for a chosen network) or
// with --checkpoint-every is an error naming both, before anything is read or trained.
void check_lr_search_settings(const Config& c);

// Trains `recipe` once per rate of `net`'s grid through `train_one` (which sets nothing but what
// the recipe says) and returns the best, its lr_search record filled in:
//   {"grid": [...], "candidates": [{"lr", "best_val_loss", "best_epoch", "epochs_run", "seconds"}],
//    "chosen_lr": lr, "seconds": all candidates' training time}
// A candidate whose loss turns non-finite is recorded with "best_val_loss": null and its error,
// and is never chosen; when every candidate fails the last error is thrown.
TrainedNetwork train_with_lr_search(const NetworkEntry& net, const Recipe& recipe,
                                    const std::function<TrainedNetwork(const Recipe&)>& train_one);

// The line under table.md: for every model whose network was searched, the rates searched and
// the ones chosen (how many of the (type, seed) trainings chose each); "" when none was searched.
std::string lr_search_summary(const std::vector<ResultRow>& rows);

}  // namespace cg::perturb
