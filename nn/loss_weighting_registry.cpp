// The registry of loss-weighting strategies. Each strategy's file defines its class and
// `LossWeightingEntry <name>_weighting()` (name, description, needs, factory); adding a strategy
// is that new file plus its name in CG_LOSS_WEIGHTINGS below. --help, config validation, the
// ablation parser and the trainer all read loss_weightings().
#include "base/registry.h"
#include "nn/loss_weighting.h"

#define CG_LOSS_WEIGHTINGS(X) X(fixed) X(uncertainty) X(dwa) X(gradnorm) X(pcgrad)

namespace cg::nn {

#define CG_DECLARE_WEIGHTING(name) LossWeightingEntry name##_weighting();
CG_LOSS_WEIGHTINGS(CG_DECLARE_WEIGHTING)
#undef CG_DECLARE_WEIGHTING

const std::vector<LossWeightingEntry>& loss_weightings() {
#define CG_WEIGHTING_ENTRY(name) name##_weighting(),
  static const std::vector<LossWeightingEntry> entries = {CG_LOSS_WEIGHTINGS(CG_WEIGHTING_ENTRY)};
#undef CG_WEIGHTING_ENTRY
  return entries;
}

const LossWeightingEntry& loss_weighting(const std::string& name) {
  return find_named(loss_weightings(), name, "unknown loss weighting");
}

std::unique_ptr<LossWeighting> make_loss_weighting(const std::string& name, const std::vector<std::string>& tasks,
                                                   const LossWeightingOptions& options) {
  return loss_weighting(name).make(tasks, options);
}

}  // namespace cg::nn
