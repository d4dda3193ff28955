#pragma once
// The models train_multitask can train, registered once by name: a one-line description, the
// model's own defaults for the shared settings (applied to every setting the user did not give
// on the command line or in a --config file, then recorded in config.json like any other), how
// to build it from a ModelSpec (training and model folders alike) and how to train it with
// nn::fit. --model, --help, config validation, main and model_io read this list.
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "apps/train_multitask/config.h"
#include "apps/train_multitask/model.h"
#include "apps/train_multitask/splits.h"
#include "apps/train_multitask/step_losses.h"
#include "nn/fit.h"

namespace cg::multitask {

struct ModelEntry {
  const char* name;
  const char* description;
  // Settings (config.json names) the model sets unless the user gives them.
  nlohmann::json defaults;
  std::unique_ptr<TranslationModel> (*make)(const ModelSpec& spec, uint64_t seed);
  // Trains on split.train, early-stops on split.validation, writes the fit's files into
  // `folder` ("" for none) and leaves the model holding its best state, in eval mode.
  nn::FitResult (*train)(TranslationModel& model, const Config& c, const TrainData& d, const Split& split,
                         Device device, const std::string& folder, const std::string& label);
};

const std::vector<ModelEntry>& models();
const ModelEntry& model_entry(const std::string& name);  // throws listing the known names

// Sets c's settings from its model's defaults, except those named in `given`.
void apply_model_defaults(Config& c, const std::set<std::string>& given);

}  // namespace cg::multitask
