// GradNorm (Chen et al. 2018): learned task weights that balance gradient norms on the last
// shared layer against each task's relative training rate.
#include <cmath>

#include "autograd/error.h"
#include "autograd/ops.h"
#include "nn/loss_weighting.h"

namespace cg::nn {

GradNorm::GradNorm(std::vector<std::string> tasks, double alpha, double lr)
    : LossWeighting(std::move(tasks)), alpha_(alpha), lr_(lr), w_(tasks_.size(), 1.0) {
  CG_CHECK(std::isfinite(alpha) && alpha >= 0, "GradNorm: alpha must be >= 0, found " << alpha);
  CG_CHECK(std::isfinite(lr) && lr > 0, "GradNorm: learning rate must be > 0, found " << lr);
}

Tensor GradNorm::combine(const NamedLosses& losses) { return weighted_sum(ordered(losses), w_); }

Tensor GradNorm::backward(const NamedLosses& losses, const std::vector<Tensor>& shared) {
  const std::vector<Tensor> l = ordered(losses);
  CG_CHECK(!shared.empty(), "GradNorm: needs the shared parameters (the last shared layer) to measure gradient norms");
  for (size_t i = 0; i < shared.size(); ++i)
    CG_CHECK(shared[i].defined() && shared[i].requires_grad(),
             "GradNorm: shared parameter " << i << " is undefined or does not require a gradient (frozen?)");
  const size_t n = tasks_.size();
  std::vector<double> value(n);
  for (size_t t = 0; t < n; ++t) {
    value[t] = l[t].item();
    CG_CHECK(std::isfinite(value[t]), "GradNorm: loss term '" << tasks_[t] << "' is " << value[t]);
  }
  if (initial_.empty()) {
    for (size_t t = 0; t < n; ++t)
      CG_CHECK(value[t] > 0, "GradNorm: the first loss of term '" << tasks_[t] << "' is " << value[t]
                                                                  << "; training rates L(t)/L(0) need L(0) > 0");
    initial_ = value;
  }

  // One backward per task of w_t L_t: the leaves accumulate sum_t w_t grad L_t (the model's
  // gradient), and the change of the shared gradients across each pass is grad_W (w_t L_t).
  std::vector<double> G(n);
  std::vector<double> before = flat_gradients(shared);
  Tensor total;
  for (size_t t = 0; t < n; ++t) {
    Tensor term = mul_scalar(l[t], w_[t]);
    total = total.defined() ? add(total.detach(), term.detach()) : term.detach();
    if (term.requires_grad()) term.backward(Tensor(), /*retain_graph=*/t + 1 < n);
    std::vector<double> after = flat_gradients(shared);
    double sq = 0;
    for (size_t i = 0; i < after.size(); ++i) sq += (after[i] - before[i]) * (after[i] - before[i]);
    G[t] = std::sqrt(sq);
    before.swap(after);
  }

  std::vector<double> ratio(n);
  double mean_ratio = 0, mean_G = 0;
  for (size_t t = 0; t < n; ++t) {
    ratio[t] = value[t] / initial_[t];
    mean_ratio += ratio[t] / n;
    mean_G += G[t] / n;
  }
  last_norms_.assign(n, 0.0);
  std::vector<double> w = w_;
  for (size_t t = 0; t < n; ++t) {
    const double norm = G[t] / w_[t];  // ||grad_W L_t||, since G_t = w_t ||grad_W L_t||
    last_norms_[t] = norm;
    const double r = mean_ratio > 0 ? ratio[t] / mean_ratio : 1.0;
    const double target = mean_G * std::pow(r, alpha_);
    const double diff = G[t] - target;
    const double sign = diff > 0 ? 1.0 : (diff < 0 ? -1.0 : 0.0);
    w[t] -= lr_ * sign * norm;
  }
  // Keep weights positive (a zero weight could never recover: its G would stay 0), then
  // rescale so they sum to T as in the paper.
  double sum = 0;
  for (double& v : w) sum += (v = std::max(v, 1e-6 * n));
  for (double& v : w) v *= n / sum;
  w_ = w;
  return total;
}

std::map<std::string, double> GradNorm::weights() const {
  std::map<std::string, double> out;
  for (size_t t = 0; t < tasks_.size(); ++t) out[tasks_[t]] = w_[t];
  return out;
}

std::map<std::string, double> GradNorm::last_gradient_norms() const {
  std::map<std::string, double> out;
  for (size_t t = 0; t < last_norms_.size(); ++t) out[tasks_[t]] = last_norms_[t];
  return out;
}

NamedTensors GradNorm::state() const {
  const std::vector<double> zeros(tasks_.size(), 0.0);
  return {{"weights", vector_tensor(w_)},
          {"initial_losses_recorded", vector_tensor({initial_.empty() ? 0.0 : 1.0})},
          {"initial_losses", vector_tensor(initial_.empty() ? zeros : initial_)}};
}

void GradNorm::load_state(const NamedTensors& state) {
  const int64_t n = static_cast<int64_t>(tasks_.size());
  auto v = read_state(state, {{"weights", n}, {"initial_losses_recorded", 1}, {"initial_losses", n}});
  for (size_t t = 0; t < tasks_.size(); ++t)
    CG_CHECK(std::isfinite(v["weights"][t]) && v["weights"][t] > 0,
             "GradNorm load_state: weight of '" << tasks_[t] << "' must be > 0, found " << v["weights"][t]);
  w_ = v["weights"];
  initial_ = v["initial_losses_recorded"][0] != 0 ? v["initial_losses"] : std::vector<double>{};
}

LossWeightingEntry gradnorm_weighting() {
  return {"gradnorm", "weights that balance gradient norms on the last shared layer (Chen et al. 2018)",
          WeightingNeeds::LastSharedLayer,
          [](const std::vector<std::string>& tasks, const LossWeightingOptions& o) -> std::unique_ptr<LossWeighting> {
            return std::make_unique<GradNorm>(tasks, o.gradnorm_alpha, o.gradnorm_lr);
          }};
}

}  // namespace cg::nn
