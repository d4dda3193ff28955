#pragma once
// Feature attributions of a trained model (nn/attribution.h, integrated gradients): for every
// translation direction, which source features drive each predicted target feature; for the
// classifier, which features (of every modality) drive each class logit. Computed on held-out
// cells against the training cells' mean as the baseline, and written per direction as
// attributions_<dir>.csv (top features per output) and attributions_<dir>.h5ad (full table).
#include <algorithm>
#include <string>
#include <vector>

#include "apps/train_multitask/model.h"
#include "apps/train_multitask/splits.h"
#include "apps/train_multitask/trainer.h"

namespace cg::multitask {

struct AttributionSettings {
  int top = 20;                      // features listed per output in the CSV
  int steps = 32;                    // integrated-gradients path steps
  int max_cells = 100;               // held-out cells used (the first ones, in row order)
  std::vector<std::string> targets;  // target modality names and/or "classifier"; empty: all
  bool wants(const std::string& target) const {
    return targets.empty() || std::find(targets.begin(), targets.end(), target) != targets.end();
  }
};

// Writes the files into `dir` (ending in '/'). Conditioned (FiLM) models are not supported:
// their output depends on the condition as well as on the attributed features.
void write_attributions(UnitedNetModel& model, const TrainData& d, const std::vector<std::string>& modality_names,
                        const std::vector<std::vector<std::string>>& feature_names,
                        const std::vector<std::string>& class_names, const Split& split, bool classifier_trained,
                        Device device, const AttributionSettings& s, const std::string& dir);

}  // namespace cg::multitask
