#include "apps/predict_perturbation/config.h"

#include "apps/predict_perturbation/model_registry.h"

#include <set>
#include "autograd/error.h"

namespace cg::perturb {

void Config::validate() const {
  auto fail = [](const std::string& m) { throw Error(m); };
  if (data.empty()) fail("--data: an .h5ad file is required");
  if (out.empty()) fail("--out: an output folder is required");
  if (epochs < 1) fail("--epochs: expected at least 1, found " + std::to_string(epochs));
  if (batch_size < 2) fail("--batch-size: expected at least 2 (batch norm needs two cells), found " + std::to_string(batch_size));
  if (!(lr > 0)) fail("--lr: expected a positive learning rate");
  if (!(validation_fraction > 0 && validation_fraction < 1)) fail("--validation-fraction: expected a value in (0, 1)");
  std::set<std::string> listed;
  for (const auto& p : perturbed) {
    if (p == control)
      fail("--perturbed: lists the control value '" + control + "' (--control); expected only perturbed condition values");
    if (!listed.insert(p).second) fail("--perturbed: '" + p + "' is listed twice");
  }
  if (seeds.empty()) fail("--seeds: at least one seed is required");
  if (models.empty()) fail("--models: at least one model is required");
  for (const auto& m : models) perturb_model(m);  // throws naming the unknown model and the known ones
  if (device != "auto" && device != "cpu" && device != "cuda") fail("--device: expected cpu, cuda or auto, found '" + device + "'");
  if (top_degs < 1 || bootstrap < 1 || pca_components < 2 || latent < 1) fail("--top-degs, --bootstrap, --latent must be positive and --pca-components at least 2");
}

nlohmann::json to_json(const Config& c) {
  return {{"data", c.data},           {"condition_key", c.condition_key},
          {"control", c.control},     {"perturbed", c.perturbed},
          {"cell_type_key", c.cell_type_key}, {"held_out", c.held_out},
          {"models", c.models},       {"seeds", c.seeds},
          {"epochs", c.epochs},       {"patience", c.patience},
          {"batch_size", c.batch_size}, {"lr", c.lr},
          {"validation_fraction", c.validation_fraction}, {"alpha", c.alpha},
          {"dropout", c.dropout},     {"latent", c.latent},
          {"adversarial", c.adversarial}, {"top_degs", c.top_degs},
          {"bootstrap", c.bootstrap}, {"pca_components", c.pca_components},
          {"device", c.device},       {"out", c.out},
          {"overwrite", c.overwrite}};
}

void merge_json(Config& c, const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object of settings");
  const nlohmann::json defaults = to_json(c);
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!defaults.contains(it.key())) throw Error(source + ": unknown setting '" + it.key() + "'");
  try {
    nlohmann::json merged = defaults;
    merged.update(j);
    c.data = merged["data"];
    c.condition_key = merged["condition_key"];
    c.control = merged["control"];
    c.perturbed = merged["perturbed"].get<std::vector<std::string>>();
    c.cell_type_key = merged["cell_type_key"];
    c.held_out = merged["held_out"];
    c.models = merged["models"].get<std::vector<std::string>>();
    c.seeds = merged["seeds"].get<std::vector<uint64_t>>();
    c.epochs = merged["epochs"];
    c.patience = merged["patience"];
    c.batch_size = merged["batch_size"];
    c.lr = merged["lr"];
    c.validation_fraction = merged["validation_fraction"];
    c.alpha = merged["alpha"];
    c.dropout = merged["dropout"];
    c.latent = merged["latent"];
    c.adversarial = merged["adversarial"];
    c.top_degs = merged["top_degs"];
    c.bootstrap = merged["bootstrap"];
    c.pca_components = merged["pca_components"];
    c.device = merged["device"];
    c.out = merged["out"];
    c.overwrite = merged["overwrite"];
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": a setting has the wrong type (" + e.what() + ")");
  }
}

}  // namespace cg::perturb
