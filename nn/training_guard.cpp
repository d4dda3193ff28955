// The NaN/inf loss guard.
#include <cmath>
#include <sstream>

#include "nn/training.h"

namespace cg::nn {

namespace {
[[noreturn]] void fail(const std::string& term, double value, int64_t step) {
  std::ostringstream os;
  os << "loss term '" << term << "' is " << value;
  if (step >= 0) os << " at step " << step;
  os << "; stopping (the last good checkpoint is kept)";
  throw NonFiniteLoss(os.str(), term, value);
}
}  // namespace

std::vector<double> check_finite_losses(const std::vector<std::pair<std::string, Tensor>>& losses, int64_t step) {
  std::vector<double> values;
  values.reserve(losses.size());
  for (const auto& [name, t] : losses) {
    CG_CHECK(t.defined() && t.numel() == 1, "loss term '" << name << "' must be a one-element tensor, found "
                                                          << (t.defined() ? t.describe() : std::string("undefined")));
    values.push_back(t.item());
    if (!std::isfinite(values.back())) fail(name, values.back(), step);
  }
  return values;
}

void check_finite_losses(const std::map<std::string, double>& losses, int64_t step) {
  for (const auto& [name, v] : losses)
    if (!std::isfinite(v)) fail(name, v, step);
}

}  // namespace cg::nn
