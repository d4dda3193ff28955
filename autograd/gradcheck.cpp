#include "autograd/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/error.h"
#include "autograd/ops.h"
#include "autograd/rng.h"

namespace cg {

GradcheckResult gradcheck(const TensorFn& f, const std::vector<Tensor>& inputs, double eps, uint64_t seed) {
  for (const Tensor& t : inputs)
    CG_CHECK(!t.defined() || (t.dtype() == DType::F64 && t.device() == Device::CPU) || !t.requires_grad(),
             "gradcheck: inputs that require gradients must be float64 cpu tensors, found " << t.describe());

  // Analytic: backward of sum(f(x) * w).
  Tensor weights;
  {
    Tensor out = f(inputs);
    Generator gen(seed, 99);
    weights = gen.normal(out.shape(), Device::CPU, DType::F64);
    for (const Tensor& t : inputs)
      if (t.defined() && t.requires_grad()) t.impl()->grad.reset();
    sum(mul(out, weights)).backward();
  }
  auto objective = [&]() {
    NoGradGuard no_grad;
    return sum(mul(f(inputs), weights)).item();
  };

  GradcheckResult result;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined() || !t.requires_grad()) continue;
    const Tensor g = t.grad();
    const std::vector<double> analytic = g.defined() ? g.to_vector<double>() : std::vector<double>(t.numel(), 0.0);
    double* x = t.data<double>();
    for (int64_t j = 0; j < t.numel(); ++j) {
      const double saved = x[j];
      x[j] = saved + eps;
      const double up = objective();
      x[j] = saved - eps;
      const double down = objective();
      x[j] = saved;
      const double numeric = (up - down) / (2 * eps);
      const double err = std::abs(analytic[j] - numeric) / std::max({1.0, std::abs(analytic[j]), std::abs(numeric)});
      if (err > result.max_error || std::isnan(err)) {
        result.max_error = std::isnan(err) ? INFINITY : err;
        std::ostringstream os;
        os << "input " << i << ", element " << j << ": analytic " << analytic[j] << " numeric " << numeric;
        result.worst = os.str();
      }
    }
  }
  return result;
}

}  // namespace cg
