#include "apps/predict_perturbation/held_out_checks.h"

#include <algorithm>
#include <map>

#include "apps/common/run_notes.h"
#include "apps/predict_perturbation/model_registry.h"
#include "apps/predict_perturbation/predictors.h"
#include "autograd/error.h"
#include "base/text.h"
#include "omics/error.h"
#include "omics/splits.h"

namespace cg::perturb {

std::vector<std::string> held_out_types_to_run(const PerturbData& d, const Config& c) {
  std::map<std::pair<std::string, std::string>, int64_t> counts;  // (cell type, condition) -> cells
  for (size_t i = 0; i < d.cell_types.size(); ++i) ++counts[{d.cell_types[i], d.conditions[i]}];
  auto count = [&](const std::string& type, const std::string& condition) {
    const auto it = counts.find({type, condition});
    return it == counts.end() ? int64_t{0} : it->second;
  };
  // The models that learn a value's response from the other cell types' cells of that value
  // (vidr may fit another value, its largest numeric dose: checked on its own below).
  std::vector<std::string> learners, pairs_needed;  // pairs_needed: models that need min_types_with_both
  int min_with_both = 0;
  for (const auto& m : c.models) {
    const PerturbModelEntry& entry = perturb_model(m);
    if (entry.learns_from_other_types) learners.push_back(m);
    if (entry.min_types_with_both > min_with_both) min_with_both = entry.min_types_with_both;
    if (entry.min_types_with_both > 0) pairs_needed.push_back(m);
  }
  const bool sweep = c.held_out == "all";
  auto held = [&](const std::string& t) { return c.data + ": held-out cell type '" + t + "'"; };
  // Too few cells to predict from or to score against: the sweep skips the type, a type asked
  // for by name is an error.
  std::vector<std::string> held_out;
  for (const auto& t : sweep ? d.types : std::vector<std::string>{c.held_out}) {
    std::string problem;
    if (count(t, c.control) < c.min_cells)
      problem = "has " + std::to_string(count(t, c.control)) + " '" + c.control + "' cell(s)";
    for (const auto& p : d.perturbed)
      if (problem.empty() && count(t, p) < c.min_cells)
        problem = "has " + std::to_string(count(t, p)) + " '" + p + "' cell(s)";
    if (problem.empty()) {
      held_out.push_back(t);
      continue;
    }
    problem += ", fewer than --min-cells " + std::to_string(c.min_cells);
    if (!sweep)
      throw Error(held(t) + " " + problem +
                  " (the evaluation needs cells of both conditions; lower --min-cells, "
                  "at least 2, to run it anyway)");
    apps::note(held(t) + " is skipped: it " + problem + " (its cells still train the models for the other types)");
  }
  if (held_out.empty())
    throw Error(c.data + ": no cell type has at least --min-cells " + std::to_string(c.min_cells) + " cells of '" +
                c.control + "' and of every perturbed value to hold out");

  for (const auto& t : held_out) {
    for (const auto& p : d.perturbed) {
      std::vector<std::string> with_value, with_both;  // other types with p; with control and vidr's fitted value
      const std::string fit = vidr_fit_value(d.perturbed, p);
      for (const auto& u : d.types) {
        if (u == t) continue;
        if (count(u, p) > 0) with_value.push_back(u);
        if (count(u, c.control) > 0 && count(u, fit) > 0) with_both.push_back(u);
      }
      if (with_value.empty() && !learners.empty())
        throw Error(c.data + ": perturbed value '" + p + "' occurs only in held-out cell type '" + t +
                    "'; its response is learned from the other cell types (--models " + join(learners) +
                    "), and none has '" + p + "' cells");
      if (static_cast<int>(with_both.size()) < min_with_both)
        throw Error(c.data + ": --models " + join(pairs_needed) + ": held-out cell type '" + t + "' leaves " +
                    std::to_string(with_both.size()) + " other cell type(s) with both '" + c.control + "' and '" + fit +
                    "' cells" + (with_both.empty() ? "" : " (" + join(with_both) + ")") +
                    "; scVIDR's regression needs at least " + std::to_string(min_with_both));
    }
  }

  // The run splits the training cells into train/validation per (cell type, condition) group;
  // the group sizes, hence whether a part is left empty, do not depend on the seed. Checked after
  // the counts above, so that a held-out type too small to score is named as such first.
  for (const auto& t : held_out) {
    const HeldOutTask task = make_task(d, c.control, t);
    std::vector<std::string> tr_types, tr_conds;
    for (int64_t i : task.train) {
      tr_types.push_back(d.cell_types[i]);
      tr_conds.push_back(d.conditions[i]);
    }
    try {
      omics::stratified_train_val(tr_types, tr_conds, c.validation_fraction, 0);
    } catch (const omics::DataError& e) {
      throw Error(held(t) + ": " + e.what() + " (--validation-fraction)");
    }
  }
  return held_out;
}

}  // namespace cg::perturb
