#pragma once
// A network's recipe: how it is built and trained. Every network carries its published settings
// (model_registry.cpp says where each comes from); a run changes them in two ways, in this order:
//   1. "model_settings": {"mtae": {"lr": 1e-4, ...}} in a --config file, per network;
//   2. the shared flags (--epochs, --lr, --dropout, ...), for every chosen network that takes the
//      setting, only when given.
// The resolved recipe of every network a run trains is written to its config.json under
// "model_settings", so giving that file back with --config trains the same networks.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cg::perturb {

struct Recipe {
  std::vector<int64_t> hidden;  // encoder hidden widths, input side first (the decoder mirrors them)
  int64_t latent = 0;
  double input_dropout = 0;  // dropout on the encoder's input (the thesis's "mask")
  double dropout = 0;        // after every hidden layer
  double alpha = 0;          // KL weight (variational networks)
  double adversarial = 0;    // weight of the encoder's adversarial term (networks with a discriminator)
  int batch_size = 0;
  double lr = 0;
  int warmup_steps = 0;  // linear warm-up of the learning rate over the first steps
  int epochs = 0;
  int patience = 0;  // epochs without a better validation loss before stopping; 0: a fixed budget
};

// Every setting a recipe holds, by its JSON name ("batch_size"); the flag is "--batch-size".
const std::vector<std::string>& recipe_setting_names();
// The flag of a setting: "batch_size" -> "--batch-size".
std::string recipe_flag(const std::string& name);

nlohmann::json to_json(const Recipe& r);
// Applies the settings in `j` (an object; a subset of the names above) to `r`. `takes` lists the
// settings this network uses: any other is an error naming `where` and the network.
void apply_settings(Recipe& r, const nlohmann::json& j, const std::set<std::string>& takes, const std::string& network,
                    const std::string& where);
// Throws naming `where` when a value is out of range (a rate outside [0, 1), a size below 1...).
void validate(const Recipe& r, const std::string& where);

}  // namespace cg::perturb
