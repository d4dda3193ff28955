#pragma once
// Settings of a predict_perturbation run. A JSON file (--config) may hold any of them under the
// same names with underscores (e.g. "cell_type_key"); flags given on the command line override
// it; the resolved settings are written to the run folder as config.json.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/common/settings.h"

namespace cg::perturb {

struct Config {
  std::string data;
  std::string condition_key = "condition";
  std::string control = "control";
  std::vector<std::string> perturbed;  // empty: every value of condition_key other than control
  std::string cell_type_key = "cell_type";
  std::string held_out = "all";  // a cell type, or "all" for the leave-one-out sweep
  std::vector<std::string> models = {"scgen", "mtae", "control", "shift"};
  std::vector<uint64_t> seeds = {0};
  int epochs = 100;
  int patience = 20;
  int batch_size = 32;
  double lr = 1e-3;
  double validation_fraction = 0.2;
  double alpha = 5e-5;  // scGen KL weight
  double dropout = 0.2;
  int latent = 100;          // scGen latent size (MTAe uses 128)
  bool adversarial = false;  // MTAe latent discriminator
  int top_degs = 100;
  int bootstrap = 100;
  int pca_components = 50;
  std::string device = "auto";
  std::string out;
  bool overwrite = false;

  void validate() const;  // throws cg::Error naming the setting
};

// to_json, resolved_json, merge_json, load_config_files (--overwrite is never stored).
CG_DECLARE_SETTINGS_FUNCTIONS(Config)

}  // namespace cg::perturb
