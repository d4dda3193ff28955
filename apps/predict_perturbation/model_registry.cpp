#include "apps/predict_perturbation/model_registry.h"

#include "base/registry.h"

namespace cg::perturb {
namespace {

ScGenVAE& vae_of(PerturbModel* network) { return static_cast<ScGenVAE&>(*network); }
Response no_response(const FitContext&) { return nlohmann::json::object(); }

}  // namespace

const std::vector<NetworkEntry>& perturb_networks() {
  static const std::vector<NetworkEntry> networks = {
      {"scgen",
       [](int64_t genes, int64_t, const Config& c, uint64_t seed) -> std::unique_ptr<PerturbModel> {
         return std::make_unique<ScGenVAE>(genes, c.latent, c.dropout, c.alpha, seed);
       },
       [](PerturbModel& net, const omics::DenseMatrix& X, Device device) {
         return scgen_latent(static_cast<ScGenVAE&>(net), X, device);
       }},
      {"mtae",
       [](int64_t genes, int64_t conditions, const Config& c, uint64_t seed) -> std::unique_ptr<PerturbModel> {
         return std::make_unique<MultiTaskAE>(genes, conditions, c.dropout, c.adversarial, seed, c.lr);
       },
       [](PerturbModel& net, const omics::DenseMatrix& X, Device device) {
         return mtae_latent(static_cast<MultiTaskAE&>(net), X, device);
       }},
  };
  return networks;
}

const NetworkEntry& perturb_network(const std::string& name) {
  return find_named(perturb_networks(), name, "unknown network");
}

const std::vector<PerturbModelEntry>& perturb_models() {
  static const std::vector<PerturbModelEntry> models = {
      {"scgen",
       "scGen: VAE latent arithmetic, decode(z(held-out controls) + mean perturbed-minus-control latent shift)",
       "scgen", true, true, 0,
       [](const FitContext& x) {
         return fit_scgen(vae_of(x.network), x.cells, x.config.control, x.perturbed, x.seed, x.device);
       },
       [](const ApplyContext& x) {
         return apply_scgen(vae_of(x.network), x.response, x.controls, x.device, x.decode);
       }},
      {"vidr", "scVIDR: the latent shift regressed on the cell type's control centroid (scGen's VAE)", "scgen", false,
       false, 2,
       [](const FitContext& x) {
         return fit_vidr(vae_of(x.network), x.cells, x.config.control, x.perturbed_values, x.perturbed, x.device);
       },
       [](const ApplyContext& x) { return apply_vidr(vae_of(x.network), x.response, x.controls, x.device, x.decode); }},
      {"mtae", "multi-task autoencoder: decode(encode(held-out controls)) under the perturbed condition (FiLM)", "mtae",
       true, true, 0, no_response,
       [](const ApplyContext& x) {
         return apply_mtae(static_cast<MultiTaskAE&>(*x.network), x.controls, x.perturbed_index + 1,
                           static_cast<int>(x.conditions), x.device, x.decode);
       }},
      {"control", "baseline: the held-out controls unchanged", "", false, false, 0, no_response,
       [](const ApplyContext& x) { return apply_control(x.controls); }},
      {"shift", "baseline: held-out controls plus the mean perturbed-minus-control difference of the other types", "",
       false, true, 0, [](const FitContext& x) { return fit_shift(x.cells, x.config.control, x.perturbed); },
       [](const ApplyContext& x) { return apply_shift(x.response, x.controls); }},
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
