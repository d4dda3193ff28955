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
  std::vector<std::string> cell_names;  // obs index
  std::vector<std::string> types;       // distinct, sorted
  std::vector<std::string> perturbed;   // the perturbed condition values in use
  omics::DataFrame var;                 // gene table, copied into predicted .h5ad files
  std::vector<std::string> gene_names;
};

// Loads (--layer / --use-raw / --preprocess, checked by apps::read_expression) and validates:
// unknown keys or values list what exists; --held-out must name a type of the file.
PerturbData load_perturb_data(Config& config);

// Every cell whose condition is the control or a perturbed value in use: what `train` fits.
std::vector<int64_t> cells_in_use(const PerturbData& d, const std::string& control);

// The --n-top-genes highly variable genes (Seurat flavour, on the log data) of `rows`, as
// column indices in ascending order; every column when n_top_genes is 0.
std::vector<int64_t> highly_variable_columns(const PerturbData& d, const std::vector<int64_t>& rows, int n_top_genes);
// The same data restricted to `columns` (genes).
PerturbData with_genes(const PerturbData& d, const std::vector<int64_t>& columns);

}  // namespace cg::perturb
