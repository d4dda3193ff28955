#pragma once
// Training of the multi-task model: the alternating (UnitedNet), finetune (reversed) and joint
// schedules, loss weighting within the translation group (alternating) or over every task
// (joint), discriminators with their own Adam and their own backward pass, early stopping on
// the validation cells, best/last checkpoints and a per-epoch log of every term and weight.
#include <map>
#include <string>
#include <vector>

#include "apps/train_multitask/config.h"
#include "apps/train_multitask/model.h"
#include "apps/train_multitask/splits.h"
#include "omics/matrix.h"

namespace cg::multitask {

// The tensors-to-be of one run: every cell, preprocessed.
struct TrainData {
  std::vector<omics::DenseMatrix> X;  // per modality
  std::vector<bool> bce;              // per modality
  omics::DenseMatrix condition;       // one-hot; 0 columns when unconditioned
  std::vector<int32_t> labels;        // empty without a label key
  int64_t classes = 0;
};

// Which loss terms a configuration trains (switched-off parts and zero weights are left out).
struct ActiveTerms {
  bool reconstruction, translation, generator, discriminator, contrastive, kl, classification;
  std::vector<std::string> translation_group() const;  // in logging order
};
ActiveTerms active_terms(const Config& c, bool has_labels);

struct TrainResult {
  std::vector<std::map<std::string, double>> history;  // one row per epoch
  int best_epoch = 0;                                   // 1-based
  double best_val = 0, seconds = 0;
  std::vector<std::string> terms;                       // loss terms logged
};

// Trains on split.train, early-stops on split.validation, writes <folder>/best.h5, last.h5,
// history.csv and history.jsonl (folder: a run-folder path ending in '/', or "" for none) and
// leaves the model holding the best checkpoint's parameters, in eval mode.
TrainResult train_model(UnitedNetModel& model, const Config& c, const TrainData& d, const Split& split, Device device,
                        const std::string& folder, const std::string& label);

}  // namespace cg::multitask
