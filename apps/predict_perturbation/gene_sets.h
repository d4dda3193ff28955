#pragma once
// Gene sets in predict_perturbation: its flat --encoder / --gene-sets / --mask ... settings read
// into the shared GeneEncoderSettings (apps/common/gene_set_selection.h holds the checks, the
// NetActivity-style selection and the encoder spec; apps/common/pathway_encoder.h its model.json
// form), plus the check that only this app makes.
#include <optional>
#include <string>
#include <vector>

#include "apps/common/gene_set_selection.h"
#include "apps/common/perturbation_models.h"
#include "apps/predict_perturbation/config.h"
#include "omics/matrix.h"

namespace cg::perturb {

using apps::gene_encoder_from_json;
using apps::gene_encoder_json;
using apps::PathwaySets;

apps::GeneEncoderSettings gene_encoder_settings(const Config& c);

// Throws one line naming the flag: the shared checks (unknown --encoder or --mask, a pathway
// encoder or --mask soft without --gene-sets, --embed not divisible by --heads, selection bounds
// out of range), and a pathway encoder when no chosen model trains a network.
void check_gene_set_settings(const Config& c);

// --gene-sets read and selected on `genes`; nullopt without --gene-sets.
std::optional<PathwaySets> select_pathways(const Config& c, const std::vector<std::string>& genes);

// The encoder the networks are built with (apps::gene_encoder_for on c's settings).
GeneEncoderSpec gene_encoder_for(const Config& c, const PathwaySets* sets, const omics::DenseMatrix& X,
                                 const std::vector<int64_t>& train);

}  // namespace cg::perturb
