#include "apps/train_multitask/loss_terms.h"

#include "base/registry.h"

namespace cg::multitask {

namespace {
bool translating(const Config& c) { return !c.no_translation; }
}  // namespace

const std::vector<LossTermInfo>& loss_terms() {
  static const std::vector<LossTermInfo> terms = {
      {"reconstruction", "each modality decoded from its own latent", &Config::weight_reconstruction,
       TermGroup::Translation,
       [](const Config& c, bool) { return translating(c) && !c.no_reconstruction && c.weight_reconstruction > 0; }},
      {"translation", "each modality decoded from every other modality's latent", &Config::weight_translation,
       TermGroup::Translation, [](const Config& c, bool) { return translating(c) && c.weight_translation > 0; }},
      {"generator", "reconstructions made to fool the discriminators (LSGAN)", &Config::weight_generator,
       TermGroup::Translation,
       [](const Config& c, bool) { return translating(c) && !c.no_discriminator && c.weight_generator > 0; }},
      {"contrastive", "latents of the same cell pulled together across modalities", &Config::weight_contrastive,
       TermGroup::Translation,
       [](const Config& c, bool) { return translating(c) && !c.no_contrastive && c.weight_contrastive > 0; }},
      {"kl", "KL of Gaussian latents to N(0, I), averaged over units (with --vae)", &Config::weight_kl,
       TermGroup::Translation, [](const Config& c, bool) { return translating(c) && c.vae && c.weight_kl > 0; }},
      {"classification", "class-balanced cross-entropy of the cell label", &Config::weight_classification,
       TermGroup::Classification,
       [](const Config& c, bool has_labels) { return has_labels && !c.no_classifier && c.weight_classification > 0; }},
      {"discriminator", "discriminators telling real from reconstructed cells (LSGAN)", &Config::weight_discriminator,
       TermGroup::Adversary,
       [](const Config& c, bool) { return translating(c) && !c.no_discriminator && c.weight_discriminator > 0; }},
  };
  return terms;
}

const LossTermInfo& loss_term(const std::string& name) { return find_named(loss_terms(), name, "unknown loss term"); }

double weight_of(const Config& c, const std::string& term) { return c.*(loss_term(term).weight); }

std::vector<std::string> ActiveTerms::translation_group() const {
  std::vector<std::string> t;
  for (const auto& info : loss_terms())
    if (info.group == TermGroup::Translation && has(info.name)) t.push_back(info.name);
  return t;
}

ActiveTerms active_terms(const Config& c, bool has_labels) {
  ActiveTerms a;
  for (const auto& info : loss_terms())
    if (info.active(c, has_labels)) a.on.insert(info.name);
  return a;
}

}  // namespace cg::multitask
