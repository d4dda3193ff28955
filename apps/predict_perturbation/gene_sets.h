#pragma once
// Gene sets in predict_perturbation: the --gene-sets / --encoder settings, the NetActivity-style
// selection of sets on a run's genes, the pathway encoder a network is built with, and how that
// encoder is stored in a model folder.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "apps/common/perturbation_models.h"
#include "apps/predict_perturbation/config.h"
#include "omics/matrix.h"

namespace cg::perturb {

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

// Throws one line naming the flag: an unknown --encoder or --mask (or one listed twice), a pathway encoder or --mask
// soft without --gene-sets, --embed not divisible by --heads, selection bounds out of range, a
// pathway encoder when no chosen model trains a network.
void check_gene_set_settings(const Config& c);

struct PathwaySets {
  std::vector<std::string> ids;
  std::vector<std::vector<int64_t>> members;  // per kept set, gene indices (columns of X)
  std::string summary;                        // how many sets and genes matched and were kept
};
// --gene-sets read and selected on `genes`; nullopt without --gene-sets. A malformed file, no set
// gene among `genes` or no set passing the filters is a DataError naming the file.
std::optional<PathwaySets> select_pathways(const Config& c, const std::vector<std::string>& genes);

// The encoder the networks are built with: Mlp unless --encoder says otherwise; then `sets`' members and,
// for --mask soft, coexpression candidates computed on rows `train` of X.
GeneEncoderSpec gene_encoder_for(const Config& c, const PathwaySets* sets, const omics::DenseMatrix& X,
                                 const std::vector<int64_t>& train);

// model.json's "gene_encoder" (null for Mlp) and back; `genes` bounds the indices, `where`
// names the file in errors.
nlohmann::json gene_encoder_json(const GeneEncoderSpec& spec);
GeneEncoderSpec gene_encoder_from_json(const nlohmann::json& j, int64_t genes, const std::string& where);

}  // namespace cg::perturb
