// DWA (Liu et al. 2019): weights from the ratio of the last two epochs' mean losses.
#include <cmath>

#include "autograd/error.h"
#include "nn/loss_weighting.h"

namespace cg::nn {

DWA::DWA(std::vector<std::string> tasks, double temperature)
    : LossWeighting(std::move(tasks)), temperature_(temperature), w_(tasks_.size(), 1.0) {
  CG_CHECK(std::isfinite(temperature) && temperature > 0, "DWA: temperature must be > 0, found " << temperature);
}

Tensor DWA::combine(const NamedLosses& losses) { return weighted_sum(ordered(losses), w_); }

std::map<std::string, double> DWA::weights() const {
  std::map<std::string, double> out;
  for (size_t t = 0; t < tasks_.size(); ++t) out[tasks_[t]] = w_[t];
  return out;
}

void DWA::end_epoch(const std::map<std::string, double>& mean_losses) {
  const std::vector<double> l = ordered(mean_losses, "end_epoch");
  for (size_t t = 0; t < l.size(); ++t)
    // The next ratio divides by this value, so zero and negative means are as fatal as NaN.
    CG_CHECK(std::isfinite(l[t]) && l[t] > 0,
             "DWA end_epoch: mean loss of term '" << tasks_[t] << "' must be finite and > 0, found " << l[t]);
  previous_ = last_;
  last_ = l;
  update_weights();
}

void DWA::update_weights() {
  if (previous_.empty()) {
    w_.assign(tasks_.size(), 1.0);
    return;
  }
  const double n = static_cast<double>(tasks_.size());
  std::vector<double> r(tasks_.size());
  double r_max = -INFINITY;
  for (size_t t = 0; t < r.size(); ++t) {
    r[t] = last_[t] / previous_[t] / temperature_;
    r_max = std::max(r_max, r[t]);
  }
  // Softmax with the maximum subtracted: identical result, no overflow for large ratios.
  double z = 0;
  for (double& v : r) z += (v = std::exp(v - r_max));
  for (size_t t = 0; t < r.size(); ++t) w_[t] = n * r[t] / z;
}

NamedTensors DWA::state() const {
  // Epochs recorded so far (0, 1 or 2+) decides which of the loss vectors are meaningful.
  const double recorded = previous_.empty() ? (last_.empty() ? 0 : 1) : 2;
  const std::vector<double> zeros(tasks_.size(), 0.0);
  return {{"epochs_recorded", vector_tensor({recorded})},
          {"previous_mean_losses", vector_tensor(previous_.empty() ? zeros : previous_)},
          {"last_mean_losses", vector_tensor(last_.empty() ? zeros : last_)}};
}

void DWA::load_state(const NamedTensors& state) {
  const int64_t n = static_cast<int64_t>(tasks_.size());
  auto v = read_state(state, {{"epochs_recorded", 1}, {"previous_mean_losses", n}, {"last_mean_losses", n}});
  const double recorded = v["epochs_recorded"][0];
  CG_CHECK(recorded == 0 || recorded == 1 || recorded == 2,
           "DWA load_state: 'epochs_recorded' must be 0, 1 or 2, found " << recorded);
  previous_ = recorded >= 2 ? v["previous_mean_losses"] : std::vector<double>{};
  last_ = recorded >= 1 ? v["last_mean_losses"] : std::vector<double>{};
  update_weights();
}

LossWeightingEntry dwa_weighting() {
  return {"dwa", "dynamic weight average from the last two epochs' losses (Liu et al. 2019)", WeightingNeeds::Nothing,
          [](const std::vector<std::string>& tasks, const LossWeightingOptions& o) -> std::unique_ptr<LossWeighting> {
            return std::make_unique<DWA>(tasks, o.dwa_temperature);
          }};
}

}  // namespace cg::nn
