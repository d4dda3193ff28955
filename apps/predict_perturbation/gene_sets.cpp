#include "apps/predict_perturbation/gene_sets.h"

#include "apps/predict_perturbation/model_registry.h"
#include "autograd/error.h"

namespace cg::perturb {

apps::GeneEncoderSettings gene_encoder_settings(const Config& c) {
  apps::GeneEncoderSettings s;
  s.encoder = c.encoder;
  s.gene_sets = c.gene_sets;
  s.mask = c.mask;
  s.heads = c.heads;
  s.embed = c.embed;
  s.min_set_size = c.min_set_size;
  s.max_set_size = c.max_set_size;
  s.min_genes_present = c.min_genes_present;
  s.redundancy = c.redundancy;
  return s;
}

void check_gene_set_settings(const Config& c) {
  const apps::GeneEncoderSettings s = gene_encoder_settings(c);
  apps::check_encoder_choice(s);
  apps::check_shared_gene_set_settings(s);
  if (c.encoder != "mlp" && networks_of(c.models).empty())
    throw Error("--encoder " + c.encoder + ": applies to the trained networks (scgen, vidr, the mtae family); the "
                "chosen models train none");
}

std::optional<PathwaySets> select_pathways(const Config& c, const std::vector<std::string>& genes) {
  return apps::select_pathways(gene_encoder_settings(c), genes);
}

GeneEncoderSpec gene_encoder_for(const Config& c, const PathwaySets* sets, const omics::DenseMatrix& X,
                                 const std::vector<int64_t>& train) {
  return apps::gene_encoder_for(gene_encoder_settings(c), sets, X, train);
}

}  // namespace cg::perturb
