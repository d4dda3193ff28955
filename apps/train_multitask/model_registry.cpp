#include "apps/train_multitask/model_registry.h"

#include "apps/train_multitask/mlp_translator.h"
#include "apps/train_multitask/scbutterfly.h"
#include "apps/train_multitask/trainer.h"
#include "base/registry.h"

namespace cg::multitask {

namespace {
template <class M> M& as(TranslationModel& m) { return dynamic_cast<M&>(m); }
}  // namespace

const std::vector<ModelEntry>& models() {
  static const std::vector<ModelEntry> m = {
      {"unitednet",
       "UnitedNet: per-modality encoders and decoders, fused latent, classifier, discriminators, contrastive term "
       "(the settings' own defaults)",
       nlohmann::json::object(),
       [](const ModelSpec& s, uint64_t seed) -> std::unique_ptr<TranslationModel> {
         return std::make_unique<UnitedNetModel>(s, seed);
       },
       [](TranslationModel& model, const Config& c, const TrainData& d, const Split& split, Device device,
          const std::string& folder, const std::string& label) {
         return train_model(as<UnitedNetModel>(model), c, d, split, device, folder, label);
       }},
      {"mlp",
       "one MLP per direction (source -> target), no shared latent: hidden 256,256, dropout 0.1, lr 1e-3, batch 64",
       {{"hidden", {256, 256}}, {"dropout", 0.1}, {"lr", 1e-3}, {"batch_size", 64}},
       [](const ModelSpec& s, uint64_t seed) -> std::unique_ptr<TranslationModel> {
         return std::make_unique<MlpTranslator>(s, seed);
       },
       [](TranslationModel& model, const Config& c, const TrainData& d, const Split& split, Device device,
          const std::string& folder, const std::string& label) {
         return train_mlp(as<MlpTranslator>(model), c, d, split, device, folder, label);
       }},
      // scButterfly's published settings (BioX-NKU/scButterfly, experiment/RNA_ADT run_model.py):
      // encoders [G, 256, 128] / [n, 128, 128], translator embedding 128, dropout 0.1, lr 1e-3,
      // batch 64, 100 pretraining epochs, 200 translation epochs, patience 50, KL warm-up 50.
      {"scbutterfly",
       "scButterfly: per-modality encoders into per-modality VAE translators, VAE pretraining with KL warm-up, then "
       "cross translation with a latent discriminator: hidden 256,128, latent 128, dropout 0.1, lr 1e-3, batch 64, "
       "pretrain 100 + 200 epochs, patience 50",
       {{"hidden", {256, 128}},
        {"latent", 128},
        {"dropout", 0.1},
        {"lr", 1e-3},
        {"batch_size", 64},
        {"pretrain_epochs", 100},
        {"epochs", 200},
        {"patience", 50},
        {"kl_warmup", 50}},
       [](const ModelSpec& s, uint64_t seed) -> std::unique_ptr<TranslationModel> {
         return std::make_unique<ScButterflyModel>(s, seed);
       },
       [](TranslationModel& model, const Config& c, const TrainData& d, const Split& split, Device device,
          const std::string& folder, const std::string& label) {
         return train_scbutterfly(as<ScButterflyModel>(model), c, d, split, device, folder, label);
       }},
  };
  return m;
}

const ModelEntry& model_entry(const std::string& name) { return find_named(models(), name, "--model: unknown model"); }

void apply_model_defaults(Config& c, const std::set<std::string>& given) {
  nlohmann::json d = nlohmann::json::object();
  for (const auto& [key, value] : model_entry(c.model).defaults.items())
    if (!given.count(key)) d[key] = value;
  if (!d.empty()) merge_json(c, d, "--model " + c.model + " defaults");
}

}  // namespace cg::multitask
