// UncertaintyWeighting (Kendall et al. 2018): learned log-variances s_t, one [1] parameter per task.
#include <cmath>

#include "autograd/error.h"
#include "autograd/ops.h"
#include "nn/loss_weighting.h"

namespace cg::nn {

UncertaintyWeighting::UncertaintyWeighting(std::vector<std::string> tasks,
                                           const std::set<std::string>& regression_tasks, double initial_log_variance,
                                           Device device, DType dtype)
    : LossWeighting(std::move(tasks)) {
  CG_CHECK(std::isfinite(initial_log_variance),
           "uncertainty weighting: initial log-variance must be finite, found " << initial_log_variance);
  CG_CHECK(dtype != DType::I32, "uncertainty weighting: log-variances must be floating-point");
  for (const auto& r : regression_tasks) {
    bool known = false;
    for (const auto& t : tasks_) known = known || t == r;
    CG_CHECK(known, "uncertainty weighting: regression task '" << r << "' is not one of the tasks");
  }
  for (const auto& t : tasks_) {
    half_.push_back(regression_tasks.count(t) ? 0.5 : 1.0);
    Tensor s = Tensor::full({1}, initial_log_variance, dtype, device);
    s.set_requires_grad(true);
    log_variances_.push_back(s);
  }
}

Tensor UncertaintyWeighting::combine(const NamedLosses& losses) {
  const std::vector<Tensor> l = ordered(losses);
  Tensor total;
  for (size_t t = 0; t < l.size(); ++t) {
    const Tensor& s = log_variances_[t];
    CG_CHECK(l[t].device() == s.device() && l[t].dtype() == s.dtype(),
             "uncertainty weighting: loss term '" << tasks_[t] << "' is " << l[t].describe()
                                                  << " but the log-variances are " << s.describe()
                                                  << " (set the device/dtype options to the losses')");
    Tensor term = add(mul(exp(neg(s)), l[t]), s);
    if (half_[t] != 1.0) term = mul_scalar(term, half_[t]);
    total = total.defined() ? add(total, term) : term;
  }
  return total;
}

std::map<std::string, double> UncertaintyWeighting::log_variances() const {
  std::map<std::string, double> out;
  for (size_t t = 0; t < tasks_.size(); ++t) out[tasks_[t]] = log_variances_[t].item();
  return out;
}

std::map<std::string, double> UncertaintyWeighting::weights() const {
  std::map<std::string, double> out;
  for (size_t t = 0; t < tasks_.size(); ++t) out[tasks_[t]] = half_[t] * std::exp(-log_variances_[t].item());
  return out;
}

NamedTensors UncertaintyWeighting::state() const {
  std::vector<double> s;
  for (const auto& p : log_variances_) s.push_back(p.item());
  return {{"log_variance", vector_tensor(s)}};
}

void UncertaintyWeighting::load_state(const NamedTensors& state) {
  const auto values = read_state(state, {{"log_variance", static_cast<int64_t>(tasks_.size())}});
  const auto& s = values.at("log_variance");
  // Written in place so that an optimizer holding these parameters keeps working.
  for (size_t t = 0; t < tasks_.size(); ++t) log_variances_[t].fill_(s[t]);
}

LossWeightingEntry uncertainty_weighting() {
  return {"uncertainty", "learned homoscedastic-uncertainty weights (Kendall et al. 2018)", WeightingNeeds::Nothing,
          [](const std::vector<std::string>& tasks, const LossWeightingOptions& o) -> std::unique_ptr<LossWeighting> {
            return std::make_unique<UncertaintyWeighting>(tasks, o.regression_tasks, o.initial_log_variance, o.device,
                                                          o.dtype);
          }};
}

}  // namespace cg::nn
