// PCGrad (Yu et al. 2020): project conflicting task gradients onto each other's normal plane.
#include <cmath>
#include <numeric>

#include "autograd/error.h"
#include "autograd/ops.h"
#include "nn/loss_weighting.h"

namespace cg::nn {

namespace {

// Sets every parameter's gradient (in place when one exists, so flat-buffer views stay valid).
void write_gradients(const std::vector<Tensor>& params, const std::vector<double>& flat) {
  size_t at = 0;
  for (const Tensor& p : params) {
    const std::vector<double> part(flat.begin() + at, flat.begin() + at + p.numel());
    at += static_cast<size_t>(p.numel());
    Tensor host = Tensor::from_vector(part, p.shape());
    if (p.dtype() != DType::F64) host = host.to(p.dtype());
    Tensor g = p.grad();
    if (g.defined()) g.copy_(host);
    else p.impl()->grad = host.to(p.device()).impl_ptr();
  }
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
}  // namespace

PCGrad::PCGrad(std::vector<std::string> tasks, uint64_t seed) : LossWeighting(std::move(tasks)), gen_(seed) {}

Tensor PCGrad::combine(const NamedLosses& losses) {
  return weighted_sum(ordered(losses), std::vector<double>(tasks_.size(), 1.0));
}

std::map<std::string, double> PCGrad::weights() const {
  std::map<std::string, double> out;
  for (const auto& t : tasks_) out[t] = 1.0;
  return out;
}

Tensor PCGrad::backward(const NamedLosses& losses, const std::vector<Tensor>& params) {
  const std::vector<Tensor> l = ordered(losses);
  CG_CHECK(!params.empty(), "PCGrad: needs the shared parameters whose task gradients are to be projected");
  for (size_t i = 0; i < params.size(); ++i) {
    CG_CHECK(params[i].defined() && params[i].requires_grad() && params[i].is_leaf(),
             "PCGrad: parameter " << i << " must be a leaf tensor that requires a gradient");
    CG_CHECK(params[i].dtype() != DType::I32, "PCGrad: parameter " << i << " is not floating-point");
  }
  const size_t n = tasks_.size();

  // What the gradients held before (gradient accumulation over micro-batches) is kept and the
  // projected sum added to it; in between, each task's gradient is isolated by zeroing.
  const std::vector<double> initial = flat_gradients(params);
  std::vector<std::vector<double>> g(n);
  Tensor total;
  for (size_t t = 0; t < n; ++t) {
    for (Tensor p : params) p.zero_grad();  // a handle copy: zero_grad is non-const
    if (l[t].requires_grad()) l[t].backward(Tensor(), /*retain_graph=*/t + 1 < n);
    g[t] = flat_gradients(params);
    total = total.defined() ? add(total, l[t].detach()) : l[t].detach();
  }

  std::vector<double> norm_sq(n);
  for (size_t t = 0; t < n; ++t) norm_sq[t] = dot(g[t], g[t]);
  std::vector<double> result = initial;
  std::vector<size_t> others;
  last_conflicts_ = 0;
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> gi = g[i];
    others.clear();
    for (size_t j = 0; j < n; ++j)
      if (j != i) others.push_back(j);
    // Fisher-Yates with the engine generator: the order matters once three or more tasks
    // conflict, and a seeded order keeps runs reproducible.
    for (size_t k = others.size(); k > 1; --k)
      std::swap(others[k - 1], others[gen_.next_below(static_cast<uint32_t>(k))]);
    for (size_t j : others) {
      const double d = dot(gi, g[j]);
      if (d < 0 && norm_sq[j] > 0) {
        ++last_conflicts_;
        const double c = d / norm_sq[j];
        for (size_t e = 0; e < gi.size(); ++e) gi[e] -= c * g[j][e];
      }
    }
    for (size_t e = 0; e < gi.size(); ++e) result[e] += gi[e];
  }
  write_gradients(params, result);
  return total;
}

LossWeightingEntry pcgrad_weighting() {
  return {"pcgrad", "conflicting task gradients projected onto each other's normal plane (Yu et al. 2020)",
          WeightingNeeds::SharedParameters,
          [](const std::vector<std::string>& tasks, const LossWeightingOptions& o) -> std::unique_ptr<LossWeighting> {
            return std::make_unique<PCGrad>(tasks, o.seed);
          }};
}

}  // namespace cg::nn
