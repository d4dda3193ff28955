// FixedWeights: total = sum_t lambda_t L_t with lambda_t given up front.
#include <cmath>

#include "autograd/error.h"
#include "nn/loss_weighting.h"

namespace cg::nn {

FixedWeights::FixedWeights(std::vector<std::string> tasks, const std::map<std::string, double>& weights)
    : LossWeighting(std::move(tasks)), w_(tasks_.size(), 1.0) {
  for (const auto& [term, value] : weights) {
    size_t t = 0;
    while (t < tasks_.size() && tasks_[t] != term) ++t;
    CG_CHECK(t < tasks_.size(), "fixed loss weights: weight given for '" << term << "', which is not a task");
    // A negative weight would turn a loss into a reward and make training diverge silently.
    CG_CHECK(std::isfinite(value) && value >= 0,
             "fixed loss weights: the weight of loss term '" << term << "' must be finite and >= 0, found " << value);
    w_[t] = value;
  }
}

Tensor FixedWeights::combine(const NamedLosses& losses) { return weighted_sum(ordered(losses), w_); }

std::map<std::string, double> FixedWeights::weights() const {
  std::map<std::string, double> out;
  for (size_t t = 0; t < tasks_.size(); ++t) out[tasks_[t]] = w_[t];
  return out;
}

LossWeightingEntry fixed_weighting() {
  return {"fixed", "the weighted sum with each term's --weight-* value", WeightingNeeds::Nothing,
          [](const std::vector<std::string>& tasks, const LossWeightingOptions& o) -> std::unique_ptr<LossWeighting> {
            return std::make_unique<FixedWeights>(tasks, o.fixed_weights);
          }};
}

}  // namespace cg::nn
