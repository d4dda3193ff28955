#include "apps/train_multitask/predict_config.h"

#include <CLI/CLI.hpp>

#include "apps/common/app_cli.h"
#include "apps/train_multitask/config.h"
#include "autograd/error.h"

namespace cg::multitask {

#define CG_PREDICT_SETTINGS(X) X(model) X(modalities) X(layer) X(use_raw) X(fill_missing) X(device) X(out)
// --overwrite is a decision for one invocation, never a stored setting.

void PredictConfig::validate() const {
  if (model.empty()) throw Error("--model: a model folder is required (a training run's model/ or --save-model DIR)");
  if (out.empty()) throw Error("--out: an output folder is required");
  const auto mods = parse_assignments(modalities, "--modality");
  if (mods.empty()) throw Error("--modality: at least one NAME=FILE.h5ad is required, found none");
  check_matrix_sources(layer, use_raw, mods);
  if (fill_missing != "error" && fill_missing != "zeros")
    throw Error("--fill-missing: expected error or zeros, found '" + fill_missing + "'");
  if (device != "auto" && device != "cpu" && device != "cuda")
    throw Error("--device: expected cpu, cuda or auto, found '" + device + "'");
}

CG_DEFINE_SETTINGS_JSON(PredictConfig, CG_PREDICT_SETTINGS)

nlohmann::json resolved_json(const PredictConfig& c) {
  PredictConfig r = c;
  absolute_modality_paths(r.modalities);
  r.model = apps::absolute_path(r.model);
  r.out = apps::absolute_path(r.out);
  return to_json(r);
}

void load_config_files(int argc, char** argv, PredictConfig& c) {
  for (const auto& file : apps::read_config_files(argc, argv)) {
    PredictConfig from_file = c;
    merge_json(from_file, file.settings, file.source);
    // Paths in the file are relative to the file's folder.
    if (file.settings.contains("modalities")) modality_paths_under(file.folder, from_file.modalities);
    if (file.settings.contains("model")) from_file.model = apps::path_under(file.folder, from_file.model);
    if (file.settings.contains("out")) from_file.out = apps::path_under(file.folder, from_file.out);
    c = from_file;
  }
}

void add_predict_flags(CLI::App& app, PredictConfig& c) {
  app.add_option("--model", c.model,
                 "model folder: a training run's model/ (model/<split>/ with folds) or --save-model DIR");
  app.add_option("--modality", c.modalities,
                 "NAME=FILE.h5ad, repeated: new cells of the model's modality NAME (features matched by name; cells "
                 "of several files paired by obs index)");
  app.add_option("--layer", c.layer, "NAME=LAYER: read that layer of the modality's file instead of X");
  app.add_option("--use-raw", c.use_raw, "NAME[,NAME]: read the modality's .raw instead of X")->delimiter(',');
  app.add_option("--fill-missing", c.fill_missing,
                 "model features a file lacks: error (default) or zeros (set to 0, with a note)");
  app.add_option("--device", c.device, "cpu, cuda or auto");
  app.add_option("--out", c.out, "output folder (refused if it holds a run, unless --overwrite)");
  app.add_flag("--overwrite", c.overwrite, "replace an earlier run in --out");
}

}  // namespace cg::multitask
