#pragma once
// Checks, before any training, that every held-out cell type of a run can be predicted and
// scored, so that bad data fails at once with a message naming the type, the condition value
// and the cell count, rather than hours into a leave-one-out sweep.
#include "apps/predict_perturbation/config.h"
#include "apps/predict_perturbation/data.h"
#include "autograd/error.h"

namespace cg::perturb {

// For each held-out type (c.held_out, or every type for "all"), throws cg::Error when:
// it has fewer than 2 control cells or fewer than 2 cells of some perturbed value (the DEG test
// of the evaluation compares two groups); a perturbed value occurs in no other cell type while
// scgen, mtae or shift must learn its response there; vidr finds fewer than 2 other types with
// both control and fitted perturbed cells; or the validation split of the training cells would
// leave a (cell type, condition) group without training or validation cells.
void check_held_out_types(const PerturbData& d, const Config& c);

}  // namespace cg::perturb
