// Cross-entropy with optional class weights, and balanced class weights.
#include <cmath>

#include "autograd/error.h"
#include "autograd/ops.h"
#include "nn/losses_internal.h"

namespace cg::nn {

Tensor cross_entropy(const Tensor& logits, const Tensor& labels, const Tensor& class_weights, Reduction reduction) {
  const char* name = "cross_entropy";
  detail::check_float_input(name, "logits", logits);
  detail::check_rank(name, "logits", logits, 2);
  const int64_t n = logits.dim(0), k = logits.dim(1);
  CG_CHECK(n > 0 && k > 0, "loss '" << name << "': logits must be [N, K] with N, K > 0, found " << logits.describe());
  const std::vector<int32_t> y = detail::host_labels(name, labels, n, k);

  std::vector<double> w(static_cast<size_t>(k), 1.0);
  if (class_weights.defined()) {
    CG_CHECK(class_weights.dtype() != DType::I32 && class_weights.rank() == 1 && class_weights.numel() == k,
             "loss '" << name << "': class_weights must be floating point [" << k << "] for logits "
                      << logits.describe() << ", found " << class_weights.describe());
    w = class_weights.to_vector<double>();
    for (int64_t c = 0; c < k; ++c)
      CG_CHECK(std::isfinite(w[c]) && w[c] >= 0,
               "loss '" << name << "': class weight " << c << " is " << w[c] << " (must be finite and >= 0)");
  }

  // Picking log p[i, y_i] is a product with a host-built one-hot that already carries the
  // weight w[y_i]; the weights are constants (no gradient), as in PyTorch.
  std::vector<double> pick(static_cast<size_t>(n * k), 0.0);
  double weight_sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double wi = w[static_cast<size_t>(y[i])];
    pick[static_cast<size_t>(i * k + y[i])] = wi;
    weight_sum += wi;
  }
  const Tensor per_sample = neg(sum_rows(mul(log_softmax_rows(logits), detail::constant_like(pick, {n, k}, logits))));
  if (reduction != Reduction::Mean) return detail::reduce_samples(per_sample, reduction);
  CG_CHECK(weight_sum > 0,
           "loss '" << name << "': the " << n
                    << " labels of this batch all have class weight 0, so the weighted mean is undefined");
  return mul_scalar(sum(per_sample), 1.0 / weight_sum);
}

Tensor balanced_class_weights(const Tensor& labels, int64_t num_classes) {
  const char* name = "balanced_class_weights";
  CG_CHECK(num_classes > 0, "loss '" << name << "': num_classes must be positive, found " << num_classes);
  CG_CHECK(labels.defined() && labels.numel() > 0,
           "loss '" << name << "': labels must be a non-empty int32 vector, found "
                    << (labels.defined() ? labels.describe() : std::string("an undefined tensor")));
  const std::vector<int32_t> y = detail::host_labels(name, labels, labels.numel(), num_classes);
  std::vector<double> count(static_cast<size_t>(num_classes), 0.0);
  for (int32_t c : y) count[static_cast<size_t>(c)] += 1;
  const double n = static_cast<double>(y.size());
  std::vector<float> weights(static_cast<size_t>(num_classes), 0.0f);
  for (int64_t c = 0; c < num_classes; ++c)
    if (count[c] > 0) weights[c] = static_cast<float>(n / (static_cast<double>(num_classes) * count[c]));
  return Tensor::from_vector(weights, {num_classes});
}

}  // namespace cg::nn
