#pragma once
// A trained perturbation model as a model folder (apps/common/model_folder.h): config.json (the
// training run's settings), model.json (below) and weights.h5 (the network, when the model has
// one). Loading rebuilds the network from the stored settings and checks every part.
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "apps/common/model_folder.h"
#include "apps/predict_perturbation/config.h"
#include "apps/predict_perturbation/predictors.h"
#include "omics/input_encoding.h"

namespace cg::perturb {

// model.json.
struct SavedModel {
  std::string model;               // registry name (scgen, vidr, mtae, shift, control)
  std::vector<std::string> genes;  // the model's genes, in its input order (after --n-top-genes)
  std::string condition_key, control, cell_type_key;
  std::vector<std::string> perturbed;  // the values it predicts, in its one-hot order
  // The input the model expects, as the training run read it: what predict applies by default.
  std::string preprocess;
  // --preprocess rank|rank-top100|bins: the encoding fitted on the training cells (rank: each
  // gene's nonzero median), applied to every file predict reads; empty otherwise.
  std::optional<omics::InputEncoding> encoding;
  // Training cell types, and for each perturbed value the types that had cells of it.
  std::vector<std::string> cell_types;
  std::map<std::string, std::vector<std::string>> types_with_value;
  std::map<std::string, Response> responses;  // per perturbed value: what fit learned
  nlohmann::json training;                    // file, cells, best epoch, seconds (for the record)
  GeneEncoderSpec gene_encoder;               // how the network reads the genes (gene_sets.h)
};

// Writes config.json, model.json and weights.h5 (when `network` is not null) into `dir` and
// seals it (manifest.json with checksums).
void write_model_folder(const std::string& dir, const Config& config, const SavedModel& saved, PerturbModel* network);

struct LoadedModel {
  apps::ModelFolder folder;
  Config config;  // the training run's settings
  SavedModel saved;
  std::unique_ptr<PerturbModel> network;  // null for the baselines
};

// Opens and checks `dir` (apps::open_model_folder), rebuilds the network and loads its weights
// onto `device`. Every problem is one cg::Error naming the folder.
LoadedModel load_model_folder(const std::string& dir, Device device);

}  // namespace cg::perturb
