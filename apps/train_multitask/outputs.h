#pragma once
// Files of a run folder: translated matrices and the fused latent as .h5ad, the split of every
// cell, the loss curves and the latent's 2-D PCA as SVG, final metrics as JSON and CSV.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/train_multitask/data.h"
#include "apps/train_multitask/evaluate.h"
#include "apps/train_multitask/splits.h"
#include "apps/train_multitask/trainer.h"

namespace cg::multitask {

// <dir>translated_<source>_to_<target>.h5ad: held-out cells x target features (obs: the test
// cells' obs rows; var: the target's kept features) on the model's scale (uns['scale'] says
// which).
void write_translations(const std::string& dir, const Evaluation& ev, const Dataset& d,
                        const std::vector<PreparedModality>& prepared, const Split& split);
// latent.h5ad (every cell; obsm X_latent and X_pca; obs column "split"; the classifier's
// answers as add_class_predictions writes them, when one was trained), latent_pca.svg coloured
// by label (PCA fitted on the training cells), split.csv (cell, row, split).
void write_latent(const std::string& dir, const Evaluation& ev, const Dataset& d, const Split& split,
                  const std::string& label_key);
// pathways_<modality>.h5ad for every modality with a pathway encoder (--encoder): every cell
// (obs column "split"), X and obsm X_pathways its pathway activities, uns['pathways'] their names
// (pathway_encoders.h).
void write_pathways(const std::string& dir, TranslationModel& model, const Dataset& d,
                    const std::vector<PreparedModality>& prepared, const Split& split);
// Per-cell classifier outputs: obs['predicted_<label>'] (categorical over every class),
// obs['predicted_<label>_probability'] (the highest probability), obsm['<label>_probabilities']
// (cells x classes) and uns['<label>_classes'] (the class names, the obsm columns' order).
void add_class_predictions(omics::AnnData& a, const std::string& label_key, const std::vector<std::string>& classes,
                           const ClassOutputs& c);
// One line per loss term (train_*, val_*) over epochs.
void write_loss_curves(const std::string& path, const TrainResult& r, const std::string& title);
// With a label key: classification_per_class.csv (class, support, precision, recall, f1 over the
// test cells) and confusion_matrix.csv (rows: true class, columns: predicted class).
void write_class_report(const std::string& dir, const Evaluation& ev, const Dataset& d, const Split& split);
// metrics.json (nested) and metrics.csv (one "metric,value" row per number).
void write_metrics(const std::string& dir, const nlohmann::json& metrics);

}  // namespace cg::multitask
