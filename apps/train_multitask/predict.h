#pragma once
// `train_multitask predict`: a trained model (a model folder) applied to new cells. Each given
// file is matched to the model's features by name, preprocessed with the statistics the model
// learned on its training cells, encoded, and decoded into every other modality of the model.
// Writes into --out (a run folder that appears whole or not at all):
//   translations/<SRC>_to_<TGT>.h5ad   every given source into every other model modality (obs:
//                                      the input cells; var: the target's features), on the
//                                      target file's scale where the preprocessing can be undone
//                                      (uns['scale'] says what the values are)
//   pathways/<NAME>.h5ad               each given modality with a pathway encoder: its pathway
//                                      activities (X, obsm X_pathways; names in uns['pathways'])
//   latent.h5ad                        obsm X_latent: the fused latent of the given modalities
//                                      (one given: that modality's latent), and with a classifier
//                                      the predicted class, its probability and every class's
//   metrics.json, metrics.csv          scores against what the inputs allow (a given target
//                                      modality, the label column), or why there are none
//   config.json, warnings.txt
#include "apps/train_multitask/predict_config.h"

namespace cg::multitask {

// Runs predict; returns the exit code (errors are exceptions, caught by main).
int run_predict(const PredictConfig& c);

}  // namespace cg::multitask
