#include "apps/predict_perturbation/config.h"

#include <cmath>
#include <set>

#include "apps/common/app_cli.h"
#include "apps/common/expression_input.h"
#include "apps/common/settings.h"
#include "apps/predict_perturbation/encoded_input.h"
#include "apps/predict_perturbation/gene_sets.h"
#include "apps/predict_perturbation/lr_search.h"
#include "apps/predict_perturbation/model_registry.h"
#include "autograd/error.h"
#include "base/text.h"

namespace cg::perturb {

void Config::validate() const {
  auto fail = [](const std::string& m) { throw Error(m); };
  if (data.empty()) fail("--data: an .h5ad file is required");
  if (out.empty()) fail("--out: an output folder is required");
  if (!(validation_fraction > 0 && validation_fraction < 1)) fail("--validation-fraction: expected a value in (0, 1)");
  std::set<std::string> listed;
  for (const auto& p : perturbed) {
    if (p == control)
      fail("--perturbed: lists the control value '" + control +
           "' (--control); expected only perturbed condition values");
    if (!listed.insert(p).second) fail("--perturbed: '" + p + "' is listed twice");
  }
  if (seeds.empty()) fail("--seeds: at least one seed is required");
  if (models.empty()) fail("--models: at least one model is required");
  for (const auto& m : models) perturb_model(m);  // throws naming the unknown model and the known ones
  if (device != "auto" && device != "cpu" && device != "cuda")
    fail("--device: expected cpu, cuda or auto, found '" + device + "'");
  if (top_degs < 1 || bootstrap < 1 || pca_components < 2)
    fail("--top-degs and --bootstrap must be positive and --pca-components at least 2");
  check_training_settings(*this);  // every chosen network's resolved recipe (model_registry.h)
  check_lr_search_settings(*this);
  decode_named(decode, "--decode");
  check_preprocess(preprocess, "--preprocess");
  if (!layer.empty() && use_raw) fail("--layer and --use-raw both choose the matrix to read; give one of them");
  if (n_top_genes < 0)
    fail("--n-top-genes: expected 0 (every gene) or a positive count, found " + std::to_string(n_top_genes));
  if (checkpoint_every < 0)
    fail("--checkpoint-every: expected 0 (no checkpoints) or a number of epochs, found " +
         std::to_string(checkpoint_every));
  check_gene_set_settings(*this);
  if (!(std::isfinite(mmd_weight) && mmd_weight >= 0))
    fail("--mmd-weight: expected 0 (off) or a positive finite weight, found " + format_number(mmd_weight));
  if (mmd_weight > 0 && networks_of(models).empty()) {
    std::vector<std::string> trained;
    for (const auto& m : perturb_models())
      if (!m.network.empty()) trained.push_back(m.name);
    fail("--mmd-weight: no chosen model trains a network (" + join(models) + "); the models that do: " + join(trained));
  }
  if (min_cells < 2)
    fail("--min-cells: expected at least 2 (the evaluation compares two groups of cells), found " +
         std::to_string(min_cells));
}

nlohmann::json Config::given_training_flags() const {
  nlohmann::json j = nlohmann::json::object();
  auto put = [&](const char* name, const auto& v) {
    if (v) j[name] = *v;
  };
  put("epochs", epochs);
  put("patience", patience);
  put("batch_size", batch_size);
  put("warmup_steps", warmup_steps);
  put("latent", latent);
  put("lr", lr);
  put("dropout", dropout);
  put("input_dropout", input_dropout);
  put("alpha", alpha);
  put("adversarial", adversarial);
  return j;
}

void PredictConfig::validate() const {
  auto fail = [](const std::string& m) { throw Error(m); };
  if (model.empty()) fail("--model: a model folder is required (written by predict_perturbation train)");
  if (data.empty()) fail("--data: an .h5ad or 10x .h5 file is required");
  if (out.empty()) fail("--out: an output folder is required");
  if (!preprocess.empty()) check_preprocess(preprocess, "--preprocess");
  if (!layer.empty() && use_raw) fail("--layer and --use-raw both choose the matrix to read; give one of them");
  if (!fill_missing.empty() && fill_missing != "zeros")
    fail("--fill-missing: expected zeros, found '" + fill_missing + "'");
  if (device != "auto" && device != "cpu" && device != "cuda")
    fail("--device: expected cpu, cuda or auto, found '" + device + "'");
}

// One list of every stored setting keeps to_json, merge_json and config.json from drifting
// apart; --overwrite is a decision for one invocation, never a stored setting.
#define CG_PERTURB_SETTINGS(X)                                                                                       \
  X(data)                                                                                                            \
  X(layer)                                                                                                           \
  X(use_raw)                                                                                                         \
  X(preprocess)                                                                                                      \
  X(allow_counts)                                                                                                    \
  X(n_top_genes)                                                                                                     \
  X(condition_key)                                                                                                   \
  X(control) X(perturbed) X(cell_type_key) X(held_out) X(held_out_dose) X(models) X(seeds) X(epochs) X(patience) X(batch_size) X(lr)  \
      X(warmup_steps) X(latent) X(dropout) X(input_dropout) X(alpha) X(adversarial) X(model_settings) X(search_lr) X(mmd_weight)                 \
          X(encoder) X(gene_sets) X(mask) X(heads) X(embed) X(min_set_size) X(max_set_size) X(min_genes_present) \
          X(redundancy) X(validation_fraction) X(top_degs) X(bootstrap) X(pca_components) X(min_cells) X(save_model)               \
              X(checkpoint_every) X(device) X(out) X(decode)

CG_DEFINE_SETTINGS_JSON(Config, CG_PERTURB_SETTINGS)

#define CG_PREDICT_SETTINGS(X) \
  X(model)                     \
  X(data)                      \
  X(cell_types)                \
  X(to)                        \
  X(cell_type_key) X(condition_key) X(layer) X(use_raw) X(preprocess) X(allow_counts) X(fill_missing) X(device) X(out)

CG_DEFINE_SETTINGS_JSON(PredictConfig, CG_PREDICT_SETTINGS)

nlohmann::json resolved_json(const PredictConfig& c) {
  PredictConfig r = c;
  r.model = apps::absolute_path(r.model);
  r.data = apps::absolute_path(r.data);
  r.out = apps::absolute_path(r.out);
  return to_json(r);
}

nlohmann::json resolved_json(const Config& c) {
  Config r = c;
  r.model_settings = resolved_model_settings(c);  // what each network actually used
  r.data = apps::absolute_path(r.data);
  r.out = apps::absolute_path(r.out);
  if (!r.save_model.empty()) r.save_model = apps::absolute_path(r.save_model);
  if (!r.gene_sets.empty()) r.gene_sets = apps::absolute_path(r.gene_sets);
  return to_json(r);
}

void load_config_files(int argc, char** argv, Config& c) {
  for (const auto& file : apps::read_config_files(argc, argv)) {
    merge_json(c, file.settings, file.source);
    // Paths in the file are relative to the file's folder.
    if (file.settings.contains("data")) c.data = apps::path_under(file.folder, c.data);
    if (file.settings.contains("out")) c.out = apps::path_under(file.folder, c.out);
    if (file.settings.contains("save_model")) c.save_model = apps::path_under(file.folder, c.save_model);
    if (file.settings.contains("gene_sets") && !c.gene_sets.empty())
      c.gene_sets = apps::path_under(file.folder, c.gene_sets);
  }
}

}  // namespace cg::perturb
