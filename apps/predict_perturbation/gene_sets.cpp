#include "apps/predict_perturbation/gene_sets.h"

#include <algorithm>
#include <sstream>

#include "apps/common/gene_set_flags.h"
#include "apps/predict_perturbation/model_registry.h"
#include "autograd/error.h"

namespace cg::perturb {
namespace {

// The comma-separated entries of a --encoder or --mask value; empty or repeated entries refused.
std::vector<std::string> listed(const std::string& value, const std::string& flag) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(value);
  while (std::getline(in, item, ',')) {
    if (item.empty()) throw Error(flag + ": an empty entry in '" + value + "'");
    if (std::find(out.begin(), out.end(), item) != out.end()) throw Error(flag + ": '" + item + "' is listed twice");
    out.push_back(item);
  }
  if (out.empty()) throw Error(flag + ": expected at least one value");
  return out;
}

// The checks of one variant (c.encoder and c.mask single values).
void check_one_encoder(const Config& c) {
  const apps::GeneEncoderSettings s = gene_encoder_settings(c);
  apps::check_encoder_choice(s);
  apps::check_shared_gene_set_settings(s);
  if (c.encoder != "mlp" && networks_of(c.models).empty())
    throw Error("--encoder " + c.encoder + ": applies to the trained networks (scgen, vidr, the mtae family); the "
                "chosen models train none");
}

}  // namespace

apps::GeneEncoderSettings gene_encoder_settings(const Config& c) {
  apps::GeneEncoderSettings s = apps::shared_gene_encoder_settings(c);
  s.encoder = c.encoder;
  s.gene_sets = c.gene_sets;
  return s;
}

std::vector<EncoderVariant> encoder_variants(const Config& c) {
  const std::vector<std::string> encoders = listed(c.encoder, "--encoder"), masks = listed(c.mask, "--mask");
  std::vector<EncoderVariant> out;
  for (const auto& e : encoders) {
    if (e != "pathway-attention") {
      out.push_back({e, "hard", e});
      continue;
    }
    for (const auto& m : masks) out.push_back({e, m, e});
  }
  if (out.size() > 1)
    for (auto& v : out)
      if (v.encoder == "pathway-attention") v.label += "-" + v.mask;
  return out;
}

Config with_encoder(const Config& c, const EncoderVariant& v) {
  Config one = c;
  one.encoder = v.encoder;
  one.mask = v.mask;
  return one;
}

void require_one_encoder(const Config& c, const std::string& command) {
  if (encoder_variants(c).size() != 1)
    throw Error("--encoder " + c.encoder + " --mask " + c.mask + ": " + command +
                " trains one encoder; several (a comma-separated list) are compared by the leave-one-out benchmark");
}

void check_gene_set_settings(const Config& c) {
  const std::vector<std::string> encoders = listed(c.encoder, "--encoder"), masks = listed(c.mask, "--mask");
  for (const auto& e : encoders) apps::gene_encoder_kind(e, "--encoder");  // an unknown name first
  const bool attention = std::find(encoders.begin(), encoders.end(), "pathway-attention") != encoders.end();
  for (const auto& m : masks) {
    if (m != "hard" && m != "soft") throw Error("--mask: expected hard or soft, found '" + m + "'");
    if (m == "soft" && !attention)
      throw Error("--mask soft: applies to --encoder pathway-attention, found --encoder " + c.encoder);
  }
  if (masks.size() > 1 && !attention)
    throw Error("--mask " + c.mask + ": several masks apply to --encoder pathway-attention, found --encoder " +
                c.encoder);
  for (const EncoderVariant& v : encoder_variants(c)) check_one_encoder(with_encoder(c, v));
}

std::optional<PathwaySets> select_pathways(const Config& c, const std::vector<std::string>& genes) {
  return apps::select_pathways(gene_encoder_settings(c), genes);
}

GeneEncoderSpec gene_encoder_for(const Config& c, const PathwaySets* sets, const omics::DenseMatrix& X,
                                 const std::vector<int64_t>& train) {
  return apps::gene_encoder_for(gene_encoder_settings(c), sets, X, train);
}

}  // namespace cg::perturb
