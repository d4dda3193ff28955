// MSE, binary cross-entropy (on probabilities and on logits) and the least-squares GAN terms.
#include "autograd/error.h"
#include "autograd/ops.h"
#include "nn/losses_internal.h"

namespace cg::nn {

Tensor mse_loss(const Tensor& pred, const Tensor& target, Reduction reduction) {
  detail::check_same_shape("mse_loss", "pred", pred, "target", target);
  detail::check_nonempty("mse_loss", "pred", pred);
  return detail::reduce_elements(square(sub(pred, target)), reduction);
}

Tensor bce_loss(const Tensor& prob, const Tensor& target, Reduction reduction) {
  const char* name = "bce_loss";
  detail::check_same_shape(name, "prob", prob, "target", target);
  detail::check_nonempty(name, "prob", prob);
  // Probabilities outside [0, 1] are a wiring error (a missing sigmoid), not a saturation case.
  const auto [lo, hi] = detail::value_range(prob);
  CG_CHECK(lo >= 0.0 && hi <= 1.0, "loss '" << name << "': prob must lie in [0, 1], found values in [" << lo << ", "
                                            << hi << "] (use bce_with_logits_loss for logits)");
  // Clamping the log's argument (rather than the log) keeps the backward finite at p = 0 or 1:
  // a clamped entry passes a zero gradient instead of 0 * inf.
  const Tensor log_p = log(clamp(prob, kBceEps, 1.0));
  const Tensor log_1mp = log(clamp(add_scalar(neg(prob), 1.0), kBceEps, 1.0));
  const Tensor one_minus_t = add_scalar(neg(target), 1.0);
  const Tensor values = neg(add(mul(target, log_p), mul(one_minus_t, log_1mp)));
  return detail::reduce_elements(values, reduction);
}

Tensor bce_with_logits_loss(const Tensor& logits, const Tensor& target, Reduction reduction) {
  detail::check_same_shape("bce_with_logits_loss", "logits", logits, "target", target);
  detail::check_nonempty("bce_with_logits_loss", "logits", logits);
  // softplus(x) - x t == max(x, 0) - x t + log(1 + exp(-|x|)): softplus's kernel already takes
  // the overflow-free branch on each side of 0.
  return detail::reduce_elements(sub(softplus(logits), mul(logits, target)), reduction);
}

Tensor lsgan_discriminator_loss(const Tensor& d_real, const Tensor& d_fake) {
  const char* name = "lsgan_discriminator_loss";
  detail::check_compatible(name, "d_real", d_real, "d_fake", d_fake);
  detail::check_nonempty(name, "d_real", d_real);
  detail::check_nonempty(name, "d_fake", d_fake);
  // MSE(d_real, 1) + MSE(d_fake, 0); no factor 1/2 (UnitedNet's form).
  return add(mean(square(add_scalar(d_real, -1.0))), mean(square(d_fake)));
}

Tensor lsgan_generator_loss(const Tensor& d_fake) {
  detail::check_float_input("lsgan_generator_loss", "d_fake", d_fake);
  detail::check_nonempty("lsgan_generator_loss", "d_fake", d_fake);
  return mean(square(add_scalar(d_fake, -1.0)));
}

}  // namespace cg::nn
