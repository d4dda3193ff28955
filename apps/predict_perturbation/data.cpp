#include "apps/predict_perturbation/data.h"

#include <algorithm>
#include <numeric>
#include <set>

#include "apps/common/expression_input.h"
#include "apps/common/matrix_bridge.h"
#include "apps/predict_perturbation/encoded_input.h"
#include "autograd/error.h"
#include "base/text.h"
#include "omics/hvg.h"

namespace cg::perturb {

PerturbData load_perturb_data(Config& c) {
  // An encoding (--preprocess rank, ...) is applied later, fitted on each split's training cells.
  omics::AnnData a =
      apps::read_expression(c.data, reading_options(c.preprocess, c.layer, c.use_raw, c.allow_counts));
  PerturbData d;
  // No cell-type column (--cell-type-key ""): every cell is one population.
  d.cell_types = c.cell_type_key.empty() ? std::vector<std::string>(a.obs.index.size(), "all")
                                         : a.obs.labels(c.cell_type_key);
  d.conditions = a.obs.labels(c.condition_key);
  d.cell_names = a.obs.index;
  const std::set<std::string> types(d.cell_types.begin(), d.cell_types.end());
  const std::set<std::string> conds(d.conditions.begin(), d.conditions.end());
  d.types.assign(types.begin(), types.end());

  if (!conds.count(c.control))
    throw Error(c.data + ": obs '" + c.condition_key + "' has no value '" + c.control +
                "' (--control); values present: " + join(conds));
  if (c.perturbed.empty())
    for (const auto& v : conds)
      if (v != c.control) c.perturbed.push_back(v);
  if (c.perturbed.empty())
    throw Error(c.data + ": obs '" + c.condition_key + "' has only the control value '" + c.control + "'");
  for (const auto& p : c.perturbed)
    if (!conds.count(p))
      throw Error(c.data + ": obs '" + c.condition_key + "' has no value '" + p +
                  "' (--perturbed); values present: " + join(conds));
  d.perturbed = c.perturbed;

  if (c.held_out != "all" && !types.count(c.held_out))
    throw Error(c.data + ": obs '" + c.cell_type_key + "' has no cell type '" + c.held_out +
                "' (--held-out); types present: " + join(types));
  d.X = a.dense_X();
  d.var = a.var;
  d.gene_names = a.var.index;
  return d;
}

std::vector<int64_t> cells_in_use(const PerturbData& d, const std::string& control) {
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < static_cast<int64_t>(d.conditions.size()); ++i)
    if (d.conditions[i] == control ||
        std::find(d.perturbed.begin(), d.perturbed.end(), d.conditions[i]) != d.perturbed.end())
      rows.push_back(i);
  return rows;
}

std::vector<int64_t> highly_variable_columns(const PerturbData& d, const std::vector<int64_t>& rows, int n_top_genes) {
  std::vector<int64_t> columns;
  if (n_top_genes <= 0 || n_top_genes >= d.X.cols()) {
    columns.resize(static_cast<size_t>(d.X.cols()));
    std::iota(columns.begin(), columns.end(), int64_t{0});
    return columns;
  }
  omics::SeuratHvgOptions opt;
  opt.n_top_genes = n_top_genes;
  const omics::HvgResult hvg =
      omics::highly_variable_genes_seurat(omics::CsrMatrix::from_dense(apps::take_rows(d.X, rows)), opt);
  for (int64_t g = 0; g < d.X.cols(); ++g)
    if (hvg.highly_variable[static_cast<size_t>(g)]) columns.push_back(g);
  return columns;
}

PerturbData with_genes(const PerturbData& d, const std::vector<int64_t>& columns) {
  PerturbData r = d;
  r.X.resize(d.X.rows(), static_cast<int64_t>(columns.size()));
  for (size_t k = 0; k < columns.size(); ++k) r.X.col(static_cast<int64_t>(k)) = d.X.col(columns[k]);
  r.var = d.var.take(columns);  // var's rows are the genes
  r.gene_names = r.var.index;
  return r;
}

}  // namespace cg::perturb
