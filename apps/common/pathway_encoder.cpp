#include "apps/common/pathway_encoder.h"

#include "autograd/error.h"
#include "autograd/ops.h"

namespace cg::apps {

GeneEncoderSpec::Kind gene_encoder_kind(const std::string& name, const std::string& flag) {
  if (name == "mlp") return GeneEncoderSpec::Kind::Mlp;
  if (name == "masked-linear") return GeneEncoderSpec::Kind::MaskedLinear;
  if (name == "pathway-attention") return GeneEncoderSpec::Kind::PathwayAttention;
  throw Error(flag + ": expected mlp, masked-linear or pathway-attention, found '" + name + "'");
}

std::string gene_encoder_kind_name(GeneEncoderSpec::Kind kind) {
  switch (kind) {
    case GeneEncoderSpec::Kind::MaskedLinear: return "masked-linear";
    case GeneEncoderSpec::Kind::PathwayAttention: return "pathway-attention";
    default: return "mlp";
  }
}

PathwayFront::PathwayFront(int64_t genes, const GeneEncoderSpec& spec, Generator& init)
    : nn::Module("PathwayFront"), pathways_(static_cast<int64_t>(spec.members.size())) {
  if (spec.kind == GeneEncoderSpec::Kind::MaskedLinear) {
    Tensor mask = Tensor::zeros({pathways_, genes});  // [out, in] = [sets, genes], as MaskedLinear wants
    float* m = mask.data<float>();
    for (int64_t s = 0; s < pathways_; ++s)
      for (int64_t g : spec.members[static_cast<size_t>(s)]) m[s * genes + g] = 1.0f;
    masked_ = register_module("masked",
                              std::make_shared<nn::MaskedLinear>(genes, pathways_, mask, init, nn::Init::XavierUniform));
  } else {
    nn::PathwayAttentionConfig pc;
    pc.genes = genes;
    pc.pathways = pathways_;
    pc.dim = spec.embed;
    pc.heads = spec.heads;
    pc.mask = spec.soft_mask ? nn::PathwayMask::Soft : nn::PathwayMask::Hard;
    pc.pooled = true;
    attention_ = register_module("attention", std::make_shared<nn::SparsePathwayAttention>(
                                                  pc, spec.members, init,
                                                  spec.soft_mask ? spec.candidates : std::vector<std::vector<int64_t>>{}));
  }
}

// NetActivity puts an ELU on the masked layer's activities; the attention's pooled readout is
// already a per-pathway linear score and goes to the first hidden block (BatchNorm, LeakyReLU) as is.
Tensor PathwayFront::forward(const Tensor& x) {
  if (masked_) return elu(masked_->forward(x));
  return attention_->forward(x).pooled;
}

nlohmann::json gene_encoder_json(const GeneEncoderSpec& spec) {
  if (spec.kind == GeneEncoderSpec::Kind::Mlp) return nullptr;
  nlohmann::json j = {{"kind", gene_encoder_kind_name(spec.kind)}, {"members", spec.members}};
  if (!spec.pathway_names.empty()) j["pathways"] = spec.pathway_names;
  if (spec.kind == GeneEncoderSpec::Kind::PathwayAttention) {
    j["mask"] = spec.soft_mask ? "soft" : "hard";
    j["heads"] = spec.heads;
    j["embed"] = spec.embed;
    if (spec.soft_mask) j["candidates"] = spec.candidates;
  }
  return j;
}

GeneEncoderSpec gene_encoder_from_json(const nlohmann::json& j, int64_t genes, const std::string& where) {
  GeneEncoderSpec spec;
  if (j.is_null()) return spec;
  try {
    spec.kind = gene_encoder_kind(j.at("kind").get<std::string>(), "kind");
    spec.members = j.at("members").get<std::vector<std::vector<int64_t>>>();
    spec.pathway_names = j.value("pathways", std::vector<std::string>{});
    if (spec.kind == GeneEncoderSpec::Kind::PathwayAttention) {
      spec.soft_mask = j.at("mask").get<std::string>() == "soft";
      spec.heads = j.at("heads").get<int64_t>();
      spec.embed = j.at("embed").get<int64_t>();
      if (spec.soft_mask) spec.candidates = j.at("candidates").get<std::vector<std::vector<int64_t>>>();
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + ": gene_encoder: an entry is missing or has the wrong type (" + std::string(e.what()) + ")");
  } catch (const Error& e) {
    throw Error(where + ": gene_encoder: " + e.what());
  }
  if (spec.members.empty()) throw Error(where + ": gene_encoder: 'members' lists no pathway");
  if (!spec.pathway_names.empty() && spec.pathway_names.size() != spec.members.size())
    throw Error(where + ": gene_encoder: " + std::to_string(spec.pathway_names.size()) + " pathway names for " +
                std::to_string(spec.members.size()) + " pathways");
  if (spec.kind == GeneEncoderSpec::Kind::PathwayAttention && (spec.heads < 1 || spec.embed % spec.heads != 0))
    throw Error(where + ": gene_encoder: embed " + std::to_string(spec.embed) + " is not a positive multiple of heads " +
                std::to_string(spec.heads));
  for (const auto* lists : {&spec.members, &spec.candidates})
    for (const auto& list : *lists)
      for (int64_t g : list)
        if (g < 0 || g >= genes)
          throw Error(where + ": gene_encoder: gene index " + std::to_string(g) + " outside the model's " +
                      std::to_string(genes) + " genes");
  return spec;
}

}  // namespace cg::apps
