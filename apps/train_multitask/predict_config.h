#pragma once
// Settings of `train_multitask predict`: which model folder, which new files (modality name =
// .h5ad, cells paired by obs index), what to do about features the files lack, where to write.
// Written to the output folder as config.json; a --config file may hold them (with underscores).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/common/settings.h"

namespace CLI {
class App;
}

namespace cg::multitask {

struct PredictConfig {
  std::string model;                    // a model folder (a run's model/ or --save-model DIR)
  std::vector<std::string> modalities;  // "NAME=FILE.h5ad", at least one; NAME one of the model's
  std::vector<std::string> layer;       // "NAME=LAYER": read that layer instead of X
  std::vector<std::string> use_raw;     // NAMEs whose .raw is read instead of X
  std::string fill_missing = "error";   // model features a file lacks: error | zeros
  std::string device = "auto";
  std::string out;
  bool overwrite = false;

  void validate() const;  // throws cg::Error naming the setting
};

CG_DECLARE_SETTINGS_FUNCTIONS(PredictConfig)
void add_predict_flags(CLI::App& app, PredictConfig& c);

}  // namespace cg::multitask
