#include "apps/predict_perturbation/data.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "apps/predict_perturbation/held_out_checks.h"
#include "autograd/error.h"
#include "base/text.h"

namespace cg::perturb {

PerturbData load_perturb_data(Config& c) {
  omics::AnnData a = omics::read_h5ad(c.data);
  PerturbData d;
  d.cell_types = a.obs.labels(c.cell_type_key);
  d.conditions = a.obs.labels(c.condition_key);
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
  check_held_out_types(d, c);

  d.X = a.dense_X();
  float max_value = 0;
  bool all_integer = true;
  for (int64_t i = 0; i < d.X.size(); ++i) {
    const float v = d.X.data()[i];
    if (!std::isfinite(v))
      throw Error(c.data + ": X holds a non-finite value at cell " + std::to_string(i / d.X.cols()) + ", gene " +
                  std::to_string(i % d.X.cols()));
    max_value = std::max(max_value, v);
    if (all_integer && v != std::floor(v)) all_integer = false;
  }
  if (max_value > 20 || (all_integer && max_value > 1))
    std::fprintf(
        stderr,
        "warning: %s: X does not look log-normalised (maximum %.1f%s); the models expect log1p of normalised counts\n",
        c.data.c_str(), max_value, all_integer ? ", all integers" : "");
  d.var = a.var;
  d.gene_names = a.var.index;
  return d;
}

}  // namespace cg::perturb
