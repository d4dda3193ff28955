#pragma once
// How a network reads a gene modality before its hidden layers (methods.md, NetActivity and
// masked gene-to-pathway attention), shared by predict_perturbation's networks and
// train_multitask's per-modality encoders: the spec, the genes -> pathway activities layer it
// builds, and its model.json form (so a saved model needs no gene-set file to load).
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autograd/rng.h"
#include "nn/masked_linear.h"
#include "nn/module.h"
#include "nn/sparse_pathway_attention.h"

namespace cg::apps {

// Mlp: the genes feed the first hidden layer directly (the published networks). MaskedLinear:
// genes -> one ELU activity per gene set (weights only on the set's genes) -> the hidden layers.
// PathwayAttention: SparsePathwayAttention's pooled per-pathway readout (hard mask: only the
// set's genes; soft: learned gates over the set plus coexpressed candidate genes) -> the hidden
// layers. Members and candidates are gene indices (columns of X).
struct GeneEncoderSpec {
  enum class Kind { Mlp, MaskedLinear, PathwayAttention };
  Kind kind = Kind::Mlp;
  std::vector<std::vector<int64_t>> members;     // per pathway
  std::vector<std::vector<int64_t>> candidates;  // per pathway (soft mask only)
  std::vector<std::string> pathway_names;        // per pathway: the gene-set ids (names of the activities)
  bool soft_mask = false;
  int64_t heads = 4, embed = 32;
  bool is_pathway() const { return kind != Kind::Mlp; }
};

// "mlp" | "masked-linear" | "pathway-attention"; `flag` names the setting in the error.
GeneEncoderSpec::Kind gene_encoder_kind(const std::string& name, const std::string& flag);
std::string gene_encoder_kind_name(GeneEncoderSpec::Kind kind);

// Genes -> pathway activities [N, P], the front of a GeneEncoderSpec that is not Mlp.
class PathwayFront : public nn::Module {
 public:
  PathwayFront(int64_t genes, const GeneEncoderSpec& spec, Generator& init);
  // The per-pathway activities the network's hidden layers read: masked-linear, ELU of the
  // masked layer; pathway-attention, the layer's pooled readout (one linear score per pathway of
  // its head-concatenated output, so it already combines the heads). Also obsm X_pathways.
  Tensor forward(const Tensor& x);
  int64_t pathways() const { return pathways_; }
  nn::SparsePathwayAttention* attention() const { return attention_.get(); }  // null for masked-linear

 private:
  int64_t pathways_;
  std::shared_ptr<nn::MaskedLinear> masked_;
  std::shared_ptr<nn::SparsePathwayAttention> attention_;
};

// model.json's form of a spec (null for Mlp) and back; `genes` bounds the indices, `where` names
// the file in errors. Specs saved before pathway names were stored read back without names.
nlohmann::json gene_encoder_json(const GeneEncoderSpec& spec);
GeneEncoderSpec gene_encoder_from_json(const nlohmann::json& j, int64_t genes, const std::string& where);

}  // namespace cg::apps
