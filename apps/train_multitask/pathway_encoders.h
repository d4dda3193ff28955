#pragma once
// train_multitask's side of the pathway encoders (--encoder NAME=masked-linear|pathway-attention,
// --gene-sets NAME=FILE; the shared code is apps/common/gene_set_selection.h): the gene sets
// checked against each modality before any output exists, the encoder spec built per split on
// the features the model keeps, and every cell's pathway activities as an AnnData (obsm
// X_pathways, the pathway names in uns['pathways']).
#include <string>
#include <vector>

#include "apps/train_multitask/config.h"
#include "apps/train_multitask/data.h"
#include "apps/train_multitask/model.h"
#include "omics/anndata.h"

namespace cg::multitask {

// Every pathway encoder's gene-set file read and matched to its modality's features as loaded:
// a malformed file, no set gene among the features (how many sets and genes were compared) or no
// set passing the selection is one error line, before the run folder is made or anything trained.
void check_gene_sets_match(const Config& c, const Dataset& d);

// Per modality (in `prepared` order), the encoder its model is built with: the sets selected on
// the modality's kept features and, for --mask soft, candidates from the training rows `train`.
// `verbose`: a note per pathway encoder saying how many sets and genes were kept.
std::vector<apps::GeneEncoderSpec> gene_encoders_for(const Config& c, const std::vector<PreparedModality>& prepared,
                                                     const std::vector<int64_t>& train, bool verbose);

// Modality m's pathway activities for the rows of X (the model's preprocessed inputs), computed
// in chunks in eval mode without a tape (cells x pathways).
omics::DenseMatrix pathway_activities(TranslationModel& model, size_t m, const omics::DenseMatrix& X);

// X and obsm X_pathways: the activities; var and uns['pathways']: the pathway names (gene-set
// ids; "pathway<k>" for a model saved without them); uns['modality'] and uns['encoder'].
omics::AnnData pathway_anndata(const omics::DenseMatrix& activities, const omics::DataFrame& obs,
                               const std::string& modality, const apps::GeneEncoderSpec& spec);

}  // namespace cg::multitask
