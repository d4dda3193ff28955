// Gaussian KL to N(0, I) and the (zero-inflated) negative-binomial likelihoods of raw counts,
// written as scVI writes them so trained models are comparable.
#include "autograd/engine.h"
#include "autograd/error.h"
#include "autograd/ops.h"
#include "nn/losses_internal.h"

namespace cg::nn {

Tensor gaussian_kl(const Tensor& mu, const Tensor& logvar, double beta, KlUnits units, Reduction reduction) {
  const char* name = "gaussian_kl";
  detail::check_same_shape(name, "mu", mu, "logvar", logvar);
  detail::check_rank(name, "mu", mu, 2);
  detail::check_nonempty(name, "mu", mu);
  const Tensor inner = add_scalar(sub(sub(logvar, square(mu)), exp(logvar)), 1.0);
  const Tensor per_cell = units == KlUnits::Sum ? sum_rows(inner) : mean_rows(inner);
  return detail::reduce_samples(mul_scalar(per_cell, -0.5 * beta), reduction);
}

namespace {

// Shapes, dtypes and the count check shared by nb_nll and zinb_nll.
void check_count_inputs(const char* name, const Tensor& x, const Tensor& mu, const Tensor& theta, double eps) {
  detail::check_same_shape(name, "x", x, "mu", mu);
  detail::check_rank(name, "x", x, 2);
  detail::check_nonempty(name, "x", x);
  detail::check_compatible(name, "x", x, "theta", theta);
  const int64_t n = x.dim(0), g = x.dim(1);
  const Shape& ts = theta.shape();
  const bool row = (ts == Shape{g}) || (ts == Shape{1, g});
  CG_CHECK(row || ts == x.shape(), "loss '" << name << "': theta must be [" << g << "], [1, " << g << "] or [" << n
                                            << ", " << g << "] for x " << shape_str(x.shape()) << ", found "
                                            << shape_str(ts));
  CG_CHECK(eps > 0, "loss '" << name << "': eps must be positive, found " << eps);
  const double lowest = detail::value_range(x).first;
  CG_CHECK(lowest >= 0, "loss '" << name << "': counts x must be >= 0, found a minimum of " << lowest << " in "
                                 << x.describe() << " (pass raw counts, not normalised or scaled data)");
}

// log(theta + mu + eps), shared by both likelihoods; theta may be a row (first operand).
Tensor log_theta_mu(const Tensor& theta, const Tensor& mu, double eps) { return log(add_scalar(add(theta, mu), eps)); }

// lgamma(x + theta) - lgamma(theta) - lgamma(x + 1): the NB normaliser.
Tensor nb_log_normaliser(const Tensor& x, const Tensor& theta) {
  return sub(sub(lgamma(add(x, theta)), lgamma(theta)), lgamma(add_scalar(x, 1.0)));
}

}  // namespace

Tensor nb_nll(const Tensor& x, const Tensor& mu, const Tensor& theta, Reduction reduction, double eps) {
  const char* name = "nb_nll";
  check_count_inputs(name, x, mu, theta, eps);
  const Tensor ltm = log_theta_mu(theta, mu, eps);
  const Tensor theta_part = mul(theta, sub(log(add_scalar(theta, eps)), ltm));
  const Tensor x_part = mul(x, sub(log(add_scalar(mu, eps)), ltm));
  const Tensor log_lik = add(add(theta_part, x_part), nb_log_normaliser(x, theta));
  return detail::reduce_samples(neg(sum_rows(log_lik)), reduction);
}

Tensor zinb_nll(const Tensor& x, const Tensor& mu, const Tensor& theta, const Tensor& pi_logits, Reduction reduction,
                double eps) {
  const char* name = "zinb_nll";
  check_count_inputs(name, x, mu, theta, eps);
  detail::check_same_shape(name, "x", x, "pi_logits", pi_logits);
  // With pi = sigmoid(l), l = pi_logits, everything in softplus form (finite for any logit):
  // log(1 - pi) = -l - softplus(-l), and log(pi + (1 - pi) NB(0)) =
  // softplus(-l + theta log(theta / (theta + mu))) - softplus(-l).
  const Tensor softplus_neg_pi = softplus(neg(pi_logits));
  const Tensor ltm = log_theta_mu(theta, mu, eps);
  const Tensor pi_theta_log = add(neg(pi_logits), mul(theta, sub(log(add_scalar(theta, eps)), ltm)));
  // x == 0: log(pi + (1 - pi) NB(0)).
  const Tensor case_zero = sub(softplus(pi_theta_log), softplus_neg_pi);
  // x > 0: log(1 - pi) + log NB(x).
  const Tensor case_non_zero = add(add(sub(pi_theta_log, softplus_neg_pi), mul(x, sub(log(add_scalar(mu, eps)), ltm))),
                                   nb_log_normaliser(x, theta));
  Tensor is_non_zero;
  {
    // 1 where x > eps, 0 where x <= eps (scVI's split); x >= 0 was checked. The factor only
    // has to push any count >= 1 past 1 before the clamp.
    NoGradGuard no_grad;
    is_non_zero = clamp(mul_scalar(add_scalar(x.detach(), -eps), 1e30), 0.0, 1.0);
  }
  return detail::reduce_samples(neg(sum_rows(where(is_non_zero, case_non_zero, case_zero))), reduction);
}

}  // namespace cg::nn
