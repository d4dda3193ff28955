#pragma once
// The models predict_perturbation compares, registered once: name, one-line description, the
// network each needs trained (scgen and vidr share one VAE), what the held-out checks need of
// the data, and the prediction. --help, config validation, the held-out checks and the run all
// read this list; adding a model is its prediction function plus one entry.
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "apps/common/perturbation_models.h"
#include "apps/predict_perturbation/config.h"
#include "apps/predict_perturbation/data.h"
#include "apps/predict_perturbation/predictors.h"
#include "apps/predict_perturbation/recipe.h"
#include "apps/predict_perturbation/trainer.h"

namespace cg::perturb {

// A trainable network: built from the data's shape and the settings, trained once per
// (held-out type, seed) and shared by every model that names it.
struct NetworkEntry {
  std::string name;  // also the progress label
  Recipe defaults;   // its published settings
  // The learning rates --search-lr tries, ascending (lr_search.h): the published rate and its
  // neighbours, declared here beside the recipe so the table can say what was searched.
  std::vector<double> lr_grid;
  std::string source;  // where the defaults come from (shown by --help)
  std::set<std::string> takes;  // the recipe settings it uses
  // gene_encoder: how the network reads the genes (--encoder; every network takes it).
  std::unique_ptr<PerturbModel> (*make)(int64_t genes, int64_t conditions, const Recipe& r,
                                        const GeneEncoderSpec& gene_encoder, uint64_t seed);
  // The latent of every row of X (latent.h5ad, get_latent_representation in scvi-tools).
  omics::DenseMatrix (*latent)(PerturbModel& network, const omics::DenseMatrix& X, Device device);
};
const std::vector<NetworkEntry>& perturb_networks();
const NetworkEntry& perturb_network(const std::string& name);  // throws listing the names

// The networks the models need, in registry order.
std::vector<std::string> networks_of(const std::vector<std::string>& models);
// The recipe `network` trains with: its defaults, then c.model_settings[network], then the
// training flags given that it takes.
Recipe recipe_for(const Config& c, const std::string& network);
// {network: the settings it takes, resolved} for every network c.models trains (config.json).
nlohmann::json resolved_model_settings(const Config& c);
// Every chosen network's recipe resolves and is valid; model_settings names only networks and
// settings they take; a flag given is taken by at least one chosen network (a note names the
// networks that ignore it). Throws one line naming the setting.
void check_training_settings(const Config& c);

struct TrainedNetwork {
  std::unique_ptr<PerturbModel> model;
  GeneEncoderSpec gene_encoder;  // what it was built with (saved in model.json)
  TrainHistory history;
  // --search-lr: the grid, every candidate's best validation loss and epoch, the chosen rate
  // (lr_search.h); null when the recipe's rate was used as it is.
  nlohmann::json lr_search;
};

// What a model's fit sees: the training cells and the value whose response it learns.
struct FitContext {
  TrainingCells cells;
  const Config& config;                              // control value, settings
  const std::vector<std::string>& perturbed_values;  // every value the model knows
  const std::string& perturbed;                      // the value fitted
  uint64_t seed;
  Device device;
  PerturbModel* network;  // the trained network the model names, or null
};

// What a model's apply sees: control cells of one type and the fitted response.
struct ApplyContext {
  const omics::DenseMatrix& controls;
  const Response& response;
  int perturbed_index;  // index of the value in perturbed_values
  int64_t conditions;   // one-hot width (1 + number of perturbed values)
  Device device;
  PerturbModel* network;
  Decode decode;  // how a latent model decodes (the baselines ignore it)
};

struct PerturbModelEntry {
  std::string name;
  std::string description;
  std::string network;  // "" for the baselines
  bool writes_history;  // false where another model writes the shared network's curves
  // Learns a value's response from the other cell types' cells of that value (held-out check).
  bool learns_from_other_types;
  // Needs at least this many other cell types with both control and the fitted value.
  int min_types_with_both;
  Response (*fit)(const FitContext& ctx);
  Prediction (*apply)(const ApplyContext& ctx);
  // Predicts a dose it has not seen from the doses it has (benchmark --held-out-dose).
  bool interpolates_doses = false;
};
const std::vector<PerturbModelEntry>& perturb_models();
const PerturbModelEntry& perturb_model(const std::string& name);  // throws listing the names
// "\n  name: description" per model, for --help.
std::string perturb_models_help();
// Every network's default recipe and its source, for the end of --help.
std::string network_recipes_help();

}  // namespace cg::perturb
