#pragma once
// The perturbation data set as the models need it: a dense log-normalised matrix, and the
// cell type and condition of every cell, checked against the settings.
#include <string>
#include <vector>

#include "apps/predict_perturbation/config.h"
#include "omics/anndata.h"

namespace cg::perturb {

struct PerturbData {
  omics::DenseMatrix X;                 // cells x genes, log1p-normalised
  std::vector<std::string> cell_types;  // per cell
  std::vector<std::string> conditions;  // per cell
  std::vector<std::string> types;       // distinct, sorted
  std::vector<std::string> perturbed;   // the perturbed condition values in use
  omics::DataFrame var;                 // gene table, copied into predicted .h5ad files
  std::vector<std::string> gene_names;
};

// Loads and validates: unknown keys or values list what exists; every held-out type must be
// predictable and scorable (check_held_out_types); a non-finite value in X is refused; data
// that does not look log-normalised gets a warning with its maximum.
PerturbData load_perturb_data(Config& config);

}  // namespace cg::perturb
