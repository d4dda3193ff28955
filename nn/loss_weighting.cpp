// The LossWeighting base (argument checks shared by every strategy) and the factory.
#include "nn/loss_weighting.h"

#include <cmath>
#include <sstream>

#include "autograd/error.h"
#include "autograd/ops.h"
#include "base/text.h"

namespace cg::nn {

LossWeighting::LossWeighting(std::vector<std::string> tasks) : tasks_(std::move(tasks)) {
  CG_CHECK(!tasks_.empty(), "loss weighting: no tasks given");
  std::set<std::string> seen;
  for (const auto& t : tasks_) {
    CG_CHECK(!t.empty(), "loss weighting: a task name is empty");
    CG_CHECK(seen.insert(t).second, "loss weighting: task '" << t << "' is listed twice");
  }
}

std::vector<Tensor> LossWeighting::ordered(const NamedLosses& losses) const {
  std::map<std::string, const Tensor*> by_name;
  std::vector<std::string> unexpected, duplicate, missing;
  for (const auto& [n, t] : losses) {
    bool known = false;
    for (const auto& task : tasks_) known = known || task == n;
    if (!known) unexpected.push_back(n);
    else if (!by_name.emplace(n, &t).second) duplicate.push_back(n);
  }
  for (const auto& task : tasks_)
    if (!by_name.count(task)) missing.push_back(task);
  if (!missing.empty() || !unexpected.empty() || !duplicate.empty()) {
    std::ostringstream os;
    os << "loss weighting '" << name() << "': the losses do not match the tasks " << join_quoted(tasks_) << ":";
    if (!missing.empty()) os << " missing " << join_quoted(missing) << ";";
    if (!unexpected.empty()) os << " unexpected " << join_quoted(unexpected) << ";";
    if (!duplicate.empty()) os << " given twice " << join_quoted(duplicate) << ";";
    throw Error(os.str());
  }
  std::vector<Tensor> out;
  for (const auto& task : tasks_) {
    const Tensor& t = *by_name[task];
    CG_CHECK(t.defined() && t.numel() == 1 && t.dtype() != DType::I32,
             "loss weighting '" << name() << "': loss term '" << task
                                << "' must be a one-element floating-point tensor, found "
                                << (t.defined() ? t.describe() : std::string("an undefined tensor")));
    out.push_back(t.rank() == 1 ? t : reshape(t, {1}));
  }
  return out;
}

std::vector<double> LossWeighting::ordered(const std::map<std::string, double>& values, const char* what) const {
  std::vector<double> out;
  for (const auto& task : tasks_) {
    auto it = values.find(task);
    CG_CHECK(it != values.end(),
             "loss weighting '" << name() << "' " << what << ": no value for task '" << task << "'");
    out.push_back(it->second);
  }
  return out;
}

Tensor LossWeighting::weighted_sum(const std::vector<Tensor>& losses, const std::vector<double>& w) {
  Tensor total;
  for (size_t t = 0; t < losses.size(); ++t) {
    Tensor term = w[t] == 1.0 ? losses[t] : mul_scalar(losses[t], w[t]);
    total = total.defined() ? add(total, term) : term;
  }
  return total;
}

Tensor LossWeighting::backward(const NamedLosses& losses, const std::vector<Tensor>& shared_params) {
  Tensor total = combine(losses);
  total.backward();
  return total.detach();
}

void LossWeighting::load_state(const NamedTensors& state) {
  CG_CHECK(state.empty(),
           "loss weighting '" << name() << "' load_state: has no state, but got entry '" << state.front().first << "'");
}

Tensor LossWeighting::vector_tensor(const std::vector<double>& v) {
  return Tensor::from_vector(v, {static_cast<int64_t>(v.size())});
}

std::map<std::string, std::vector<double>> LossWeighting::read_state(
    const NamedTensors& state, const std::map<std::string, int64_t>& sizes) const {
  std::map<std::string, std::vector<double>> out;
  for (const auto& [key, t] : state) {
    auto it = sizes.find(key);
    CG_CHECK(it != sizes.end(), "loss weighting '" << name() << "' load_state: unexpected entry '" << key << "'");
    CG_CHECK(!out.count(key), "loss weighting '" << name() << "' load_state: entry '" << key << "' appears twice");
    CG_CHECK(t.defined() && t.dtype() != DType::I32 && t.numel() == it->second,
             "loss weighting '" << name() << "' load_state: entry '" << key << "' should hold " << it->second
                                << " floating-point values, found "
                                << (t.defined() ? t.describe() : std::string("an undefined tensor")));
    out[key] = t.to_vector<double>();
  }
  for (const auto& [key, n] : sizes)
    CG_CHECK(out.count(key), "loss weighting '" << name() << "' load_state: missing entry '" << key << "'");
  return out;
}

std::vector<double> flat_gradients(const std::vector<Tensor>& params) {
  std::vector<double> out;
  for (const Tensor& p : params) {
    const Tensor g = p.grad();
    if (g.defined()) {
      const std::vector<double> v = g.to_vector<double>();
      out.insert(out.end(), v.begin(), v.end());
    } else {
      out.insert(out.end(), static_cast<size_t>(p.numel()), 0.0);
    }
  }
  return out;
}

}  // namespace cg::nn
