#pragma once
// What a network with a pathway encoder (--encoder masked-linear | pathway-attention) says about
// pathways beside its prediction: per-cell activities (obsm X_pathways of the predicted .h5ad),
// for attention each pathway's most attended genes, and for the soft mask the gene-pathway links
// its gates changed against the gene sets.
#include <string>
#include <vector>

#include "apps/common/perturbation_models.h"
#include "omics/matrix.h"

namespace cg::perturb {

// Per cell, the activities the network's hidden layers read from its pathway front
// (PathwayFront::forward, eval mode): cells x pathways. Only for a network with a front.
omics::DenseMatrix pathway_activities(PerturbModel& network, const omics::DenseMatrix& X, Device device);

// pathway-attention: per pathway, its `top` links by attention weight averaged over `cells` and
// the heads; CSV pathway,rank,gene,mean_attention (pathways in the order of `pathways`).
void write_attention_top_genes(const std::string& path, PerturbModel& network, const omics::DenseMatrix& cells,
                               const std::vector<std::string>& genes, const std::vector<std::string>& pathways,
                               Device device, int top = 10);

// --mask soft: the links whose learned gate crossed 0.5 against the prior: "added" (a candidate
// gene outside the set, gate > 0.5) and "removed" (a set gene, gate < 0.5); CSV
// pathway,gene,change,gate, strongest change first within each kind. A header only when none.
void write_soft_mask_changes(const std::string& path, const PerturbModel& network,
                             const std::vector<std::string>& genes, const std::vector<std::string>& pathways);

}  // namespace cg::perturb
