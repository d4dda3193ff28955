#pragma once
// Gene sets as an app's users give them: the encoder settings (--encoder, --gene-sets, --mask,
// --heads, --embed and the NetActivity-style selection bounds), their checks, the selection of
// sets on a modality's genes and the GeneEncoderSpec a network is built with. One implementation
// for predict_perturbation (one gene matrix) and train_multitask (per modality: --encoder
// NAME=KIND, --gene-sets NAME=FILE).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "apps/common/pathway_encoder.h"
#include "omics/matrix.h"

namespace cg::apps {

struct GeneEncoderSettings {
  std::string encoder = "mlp";  // mlp | masked-linear | pathway-attention
  std::string gene_sets;        // a GMT file ("" for none)
  std::string mask = "hard";    // pathway-attention: hard | soft
  int64_t heads = 4, embed = 32;
  // Selection (NetActivity): sets listing min..max genes (max 0: no bound), with at least
  // min_genes_present genes in the data; sets whose Jaccard similarity is >= redundancy merged
  // into the largest (1: only identical sets).
  int64_t min_set_size = 0, max_set_size = 0, min_genes_present = 5;
  double redundancy = 1.0;
  // How errors name the encoder and gene-set flags: "--encoder" / "--gene-sets" in
  // predict_perturbation, "--encoder RNA" / "--gene-sets RNA" per modality in train_multitask.
  // `assign` joins a flag and its value in messages (" " or "=": "--encoder RNA=pathway-attention").
  std::string encoder_flag = "--encoder", gene_sets_flag = "--gene-sets", assign = " ";
};

// The settings every encoder shares, one line naming the flag: an unknown --mask, --heads or
// --embed not positive, --embed not divisible by --heads, selection bounds out of range.
void check_shared_gene_set_settings(const GeneEncoderSettings& s);
// One encoder choice: a known kind; a pathway encoder needs gene sets; --mask soft needs gene
// sets and applies to pathway-attention only.
void check_encoder_choice(const GeneEncoderSettings& s);

struct PathwaySets {
  std::vector<std::string> ids;
  std::vector<std::vector<int64_t>> members;  // per kept set, gene indices (columns of X)
  std::string summary;                        // how many sets and genes matched and were kept
};
// s.gene_sets read and selected on `genes`; nullopt without gene sets. A malformed file, no set
// gene among `genes` (how many sets and genes each side has) or no set passing the filters is a
// DataError naming the flag and the file.
std::optional<PathwaySets> select_pathways(const GeneEncoderSettings& s, const std::vector<std::string>& genes);

// The encoder a network is built with: Mlp unless s.encoder says otherwise; then `sets`' members
// and names and, for --mask soft, coexpression candidates computed on rows `train` of X.
GeneEncoderSpec gene_encoder_for(const GeneEncoderSettings& s, const PathwaySets* sets, const omics::DenseMatrix& X,
                                 const std::vector<int64_t>& train);

}  // namespace cg::apps
