#pragma once
// Checks, before any training, that every held-out cell type of a run can be predicted and
// scored, so that bad data fails at once with a message naming the type, the condition value
// and the cell count, rather than hours into a leave-one-out sweep.
#include "apps/predict_perturbation/config.h"
#include "apps/predict_perturbation/data.h"
#include "autograd/error.h"

namespace cg::perturb {

// The held-out types a benchmark runs: c.held_out, or every type for "all". In the sweep, a
// type with fewer than --min-cells control cells or cells of some perturbed value is skipped
// with a note (apps::note); a type asked for by name is an error instead. Then throws
// cg::Error when a perturbed value occurs in no other cell type while scgen, mtae or shift
// must learn its response there; when vidr finds fewer than 2 other types with both control
// and fitted perturbed cells; when no training group is large enough for a validation part; or
// when every type of the sweep was skipped.
std::vector<std::string> held_out_types_to_run(const PerturbData& d, const Config& c);

}  // namespace cg::perturb
