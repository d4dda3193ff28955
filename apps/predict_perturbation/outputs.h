#pragma once
// What a run writes for one (held-out type, model, seed, perturbed value): the predicted cells
// as .h5ad, the metrics as JSON, the per-gene mean scatter, loss curves and history.
#include <nlohmann/json.hpp>
#include <string>

#include "apps/common/gene_set_selection.h"
#include "apps/predict_perturbation/data.h"
#include "apps/predict_perturbation/evaluate.h"
#include "apps/predict_perturbation/trainer.h"

namespace cg::perturb {

// Per-cell pathway activities for obsm X_pathways, their names for uns pathway_names
// (pathway_outputs.h).
struct PathwayActivities {
  omics::DenseMatrix values;  // cells x pathways
  std::vector<std::string> names;
};
// pathways (optional): obsm X_pathways and uns pathway_names of the predicted cells.
void write_prediction_h5ad(const std::string& path, const omics::DenseMatrix& pred, const PerturbData& d,
                           const std::string& cell_type, const std::string& condition_key,
                           const std::string& cell_type_key, const std::string& perturbed,
                           const PathwayActivities* pathways = nullptr);
// predict's outputs. predicted.h5ad: one predicted cell per source control cell (obs:
// source_cell = its barcode, the cell type, target_condition), X in the model's genes, the
// latent it was decoded from in obsm['X_latent'] (when the model has one).
struct PredictedCells {
  omics::DenseMatrix X, latent;
  std::vector<std::string> source_cells, cell_types;
};
void write_predicted_cells(const std::string& path, const PredictedCells& p, const std::vector<std::string>& genes,
                           const std::string& cell_type_key, const std::string& condition_key,
                           const std::string& target);
// latent.h5ad: every cell's latent (obsm['X_latent']) with the file's obs; X is the latent too,
// so scanpy can plot it directly.
// pathways (optional): obsm X_pathways and uns pathway_names, as in the predicted cells.
void write_latent_h5ad(const std::string& path, const omics::DenseMatrix& latent, const omics::DataFrame& obs,
                       const PathwayActivities* pathways = nullptr);

// Per-gene means of predicted vs real perturbed cells, top DEGs of the real response in red.
void write_mean_scatter(const std::string& path, const omics::DenseMatrix& pred, const EvalReference& ref,
                        const PerturbData& d, const std::string& title, double r2_all);
// One line on stderr with a prediction's headline scores (R^2 all and top DEGs, common DEGs,
// logFC r top), as the benchmark and the dose case print them.
void print_scores(const std::string& model, const std::string& label, const nlohmann::json& metrics);
// The pathway discrepancy of a prediction (omics/pathway_scores.h): per set, the mean over its
// genes of mean(cells) - mean(held-out controls), for the real perturbed cells and the predicted
// ones; written as <stem>.csv and <stem>.md in real-rank order, and <stem>.svg: the 20 most
// discrepant pathways in the real cells, real and predicted scores side by side. Returns their Pearson over sets
// (null when undefined, e.g. a prediction that changes nothing).
nlohmann::json write_pathway_tables(const std::string& stem, const apps::PathwaySets& sets, const omics::DenseMatrix& pred,
                                    const EvalReference& ref, const std::string& title);
void write_history(const std::string& csv_path, const std::string& svg_path, const TrainHistory& h,
                   const std::string& title);

}  // namespace cg::perturb
