#pragma once
// Finite-difference gradient checking in double precision. The function's output (any shape)
// is contracted with fixed random weights, so every output element's gradient is exercised.
#include <functional>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace cg {

struct GradcheckResult {
  double max_error = 0;  // max over all input entries of |analytic - numeric| / max(1, |analytic|, |numeric|)
  std::string worst;     // "input 1, element 7: analytic 0.123 numeric 0.124"
};

using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;

// `inputs` must be float64 CPU tensors; those with requires_grad() are checked.
// Central differences with step `eps` (1e-6 gives ~1e-10 error for smooth functions).
GradcheckResult gradcheck(const TensorFn& f, const std::vector<Tensor>& inputs, double eps = 1e-6, uint64_t seed = 7);

}  // namespace cg
