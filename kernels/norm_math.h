#pragma once
// Per-element formulas of layer norm, batch norm and l2 normalisation, written once for the CPU
// and CUDA kernels (as unary_math.h does for elementwise ops), so the two back ends can only
// differ by rounding and by the order of their double-precision sums.
#include <math.h>

#include "kernels/hostdevice.h"

namespace cg::kernels {

// 1 / sqrt(var + eps), evaluated in double; callers store it in their element type.
CG_HD double norm_inv_std(double var, double eps) { return 1.0 / sqrt(var + eps); }

// Running statistic update, PyTorch style: the running variance tracks the unbiased batch
// variance although normalisation used the biased one (n >= 2 is checked by the op).
CG_HD double running_update(double running, double batch, double momentum) {
  return (1.0 - momentum) * running + momentum * batch;
}
CG_HD double unbiased_from_biased(double biased_var, int64_t n) {
  return biased_var * static_cast<double>(n) / static_cast<double>(n - 1);
}

// y = xhat * gamma + beta with xhat = (x - mean) * rstd; gamma/beta null mean 1 and 0.
template <class T> CG_HD T norm_affine(T x, T mean, T rstd, const T* gamma, const T* beta, int64_t c) {
  T y = (x - mean) * rstd;
  if (gamma) y = y * gamma[c];
  if (beta) y = y + beta[c];
  return y;
}

// Input gradient of a normalisation over n values whose mean and variance depend on those
// values: scale * (g - mean(g) - xhat * mean(g * xhat)). Layer norm: g = dy * gamma,
// scale = rstd. Batch norm: g = dy, scale = gamma * rstd (gamma is constant over the column).
// This is (1/n) * scale * (n*g - sum(g) - xhat*sum(g*xhat)) with the 1/n folded into the means.
template <class T> CG_HD T norm_input_grad(T scale, T g, T xhat, T mean_g, T mean_g_xhat) {
  return scale * (g - mean_g - xhat * mean_g_xhat);
}

// l2 normalisation divides by max(norm, eps); below eps the divisor is the constant eps.
CG_HD bool l2_is_clamped(double norm, double eps) { return norm < eps; }
CG_HD double l2_inv_divisor(double norm, double eps) { return 1.0 / (l2_is_clamped(norm, eps) ? eps : norm); }

}  // namespace cg::kernels
