#pragma once
// Gene sets in predict_perturbation: its flat --encoder / --gene-sets / --mask ... settings read
// into the shared GeneEncoderSettings (apps/common/gene_set_selection.h holds the checks, the
// NetActivity-style selection and the encoder spec; apps/common/pathway_encoder.h its model.json
// form), the encoder lists the benchmark compares as rows, and the check only this app makes.
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

// One encoder a network is built with. --encoder and --mask may each list several, comma-
// separated ("mlp,masked-linear,pathway-attention" and "hard,soft"): the benchmark then trains
// every network once per variant (each listed encoder; pathway-attention once per listed mask)
// and names the table's rows "<model>+<label>" (scgen+pathway-attention-soft), so an encoder
// ablation reads in one table. train and --held-out-dose take one variant.
struct EncoderVariant {
  std::string encoder, mask;
  std::string label;  // the encoder; pathway-attention with its mask when several variants run
};
std::vector<EncoderVariant> encoder_variants(const Config& c);
// c with one variant's --encoder and --mask.
Config with_encoder(const Config& c, const EncoderVariant& v);
// Throws naming `command` unless c names exactly one variant.
void require_one_encoder(const Config& c, const std::string& command);

// c's settings of one variant (single --encoder and --mask values) in the shared form.
apps::GeneEncoderSettings gene_encoder_settings(const Config& c);

// Throws one line naming the flag: an unknown --encoder or --mask (or one listed twice), then per
// variant the shared checks (a pathway encoder or --mask soft without --gene-sets, --embed not
// divisible by --heads, selection bounds out of range) and a pathway encoder when no chosen model
// trains a network.
void check_gene_set_settings(const Config& c);

// --gene-sets read and selected on `genes`; nullopt without --gene-sets.
std::optional<PathwaySets> select_pathways(const Config& c, const std::vector<std::string>& genes);

// The encoder the networks are built with (apps::gene_encoder_for on c's settings; c names one
// variant).
GeneEncoderSpec gene_encoder_for(const Config& c, const PathwaySets* sets, const omics::DenseMatrix& X,
                                 const std::vector<int64_t>& train);

}  // namespace cg::perturb
