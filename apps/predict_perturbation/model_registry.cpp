#include "apps/predict_perturbation/model_registry.h"

#include "base/registry.h"

namespace cg::perturb {

const std::vector<NetworkEntry>& perturb_networks() {
  static const std::vector<NetworkEntry> networks = {
      {"scgen",
       [](int64_t genes, int64_t, const Config& c, uint64_t seed) -> std::unique_ptr<PerturbModel> {
         return std::make_unique<ScGenVAE>(genes, c.latent, c.dropout, c.alpha, seed);
       }},
      {"mtae",
       [](int64_t genes, int64_t conditions, const Config& c, uint64_t seed) -> std::unique_ptr<PerturbModel> {
         return std::make_unique<MultiTaskAE>(genes, conditions, c.dropout, c.adversarial, seed, c.lr);
       }},
  };
  return networks;
}

const std::vector<PerturbModelEntry>& perturb_models() {
  static const std::vector<PerturbModelEntry> models = {
      {"scgen",
       "scGen: VAE latent arithmetic, decode(z(held-out controls) + mean perturbed-minus-control latent shift)",
       "scgen", true, true, 0,
       [](const PredictionContext& x) {
         return predict_scgen(static_cast<ScGenVAE&>(*x.network), x.data, x.task, x.config.control, x.perturbed, x.seed,
                              x.device);
       }},
      {"vidr", "scVIDR: the latent shift regressed on the cell type's control centroid (scGen's VAE)", "scgen", false,
       false, 2,
       [](const PredictionContext& x) {
         return predict_vidr(static_cast<ScGenVAE&>(*x.network), x.data, x.task, x.config.control, x.perturbed,
                             x.device);
       }},
      {"mtae", "multi-task autoencoder: decode(encode(held-out controls)) under the perturbed condition (FiLM)", "mtae",
       true, true, 0,
       [](const PredictionContext& x) {
         return predict_mtae(static_cast<MultiTaskAE&>(*x.network), x.data, x.task, x.perturbed_index + 1,
                             static_cast<int>(x.conditions), x.device);
       }},
      {"control", "baseline: the held-out controls unchanged", "", false, false, 0,
       [](const PredictionContext& x) { return predict_control(x.data, x.task); }},
      {"shift", "baseline: held-out controls plus the other types' mean perturbed-minus-control difference", "", false,
       true, 0,
       [](const PredictionContext& x) { return predict_shift(x.data, x.task, x.config.control, x.perturbed); }},
  };
  return models;
}

const PerturbModelEntry& perturb_model(const std::string& name) {
  return find_named(perturb_models(), name, "--models: unknown model");
}

std::string perturb_models_help() {
  std::string out;
  for (const auto& m : perturb_models()) out += "\n  " + m.name + ": " + m.description;
  return out;
}

}  // namespace cg::perturb
