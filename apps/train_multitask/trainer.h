#pragma once
// Training of the multi-task model: the alternating (UnitedNet), finetune (reversed) and joint
// schedules, loss weighting within the translation group (alternating) or over every task
// (joint), discriminators with their own Adam and their own backward pass, early stopping on
// the validation cells, best/last checkpoints and a per-epoch log of every term and weight.
#include <map>
#include <string>
#include <vector>

#include "apps/train_multitask/config.h"
#include "apps/train_multitask/loss_terms.h"
#include "apps/train_multitask/model.h"
#include "apps/train_multitask/splits.h"
#include "apps/train_multitask/step_losses.h"
#include "nn/fit.h"
#include "omics/matrix.h"

namespace cg::multitask {

// history: one row per epoch (train_<term>, weight_<term>, val_<term>, val_loss, seconds).
using TrainResult = nn::FitResult;

// Trains on split.train, early-stops on split.validation, writes <folder>/best.h5, last.h5,
// history.csv and history.jsonl (folder: a run-folder path ending in '/', or "" for none) and
// leaves the model holding the best checkpoint's parameters, in eval mode.
TrainResult train_model(UnitedNetModel& model, const Config& c, const TrainData& d, const Split& split, Device device,
                        const std::string& folder, const std::string& label);

}  // namespace cg::multitask
