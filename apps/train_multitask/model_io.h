#pragma once
// A trained train_multitask model as a model folder (apps/common/model_folder.h): config.json
// (the training run's resolved settings), model.json (below), weights.h5 (an nn checkpoint
// holding module "model" only: the best epoch's parameters and buffers, the ones evaluated) and
// manifest.json (format version, sizes and SHA-256 of the three).
//
// model.json: for each modality, in model order, its name, preprocessing, bce flag, the model's
// feature names and every statistic learned on the training cells (preprocessing.h); the
// ModelSpec; the label key and class names; the condition key and condition names; which split's
// training cells the model was trained on.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/common/model_folder.h"
#include "apps/train_multitask/model.h"
#include "apps/train_multitask/preprocessing.h"

namespace cg::multitask {

struct SavedModel {
  std::vector<ModalityPreprocessing> modalities;  // in model order
  ModelSpec spec;
  std::string label_key;
  std::vector<std::string> classes;  // class names, in the classifier's output order
  std::string condition_key;
  std::vector<std::string> conditions;  // condition names, in the one-hot order
  uint64_t seed = 0;
  nlohmann::json training;  // which split, how many cells, best epoch (for people; not read back)

  // Position of a modality by name, or an error naming `flag`, the name and the model's names.
  size_t modality(const std::string& name, const std::string& flag) const;
};

nlohmann::json saved_model_to_json(const SavedModel& m);
// Errors name `where` (e.g. "--model DIR: model.json") and the entry that is wrong.
SavedModel saved_model_from_json(const nlohmann::json& j, const std::string& where);

// Writes config.json, model.json and weights.h5 into the existing folder `dir`, then seals it
// (manifest.json). `model` may live on any device.
void write_model_folder(const std::string& dir, const nlohmann::json& config, const SavedModel& saved,
                        TranslationModel& model);

struct LoadedModel {
  apps::ModelFolder folder;
  SavedModel saved;
  std::unique_ptr<TranslationModel> model;  // the saved weights, on the requested device, in eval mode
};

// Opens and checks a model folder (open_model_folder), reads model.json, rebuilds the model from
// its spec and loads weights.h5. A spec that disagrees with the weights' shapes is one error
// line naming the folder and every difference.
LoadedModel load_model_folder(const std::string& dir, Device device);

}  // namespace cg::multitask
