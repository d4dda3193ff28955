#include "nn/masked_linear.h"

#include <cmath>

#include "autograd/error.h"
#include "autograd/ops.h"
#include "nn/mask_util.h"

namespace cg::nn {

std::string MaskedLinear::name() const {
  return "MaskedLinear(" + std::to_string(in_) + " -> " + std::to_string(out_) + ")";
}

MaskedLinear::MaskedLinear(int64_t in, int64_t out, const Tensor& mask_in, Generator& gen, Init init, bool use_bias)
    : Layer("MaskedLinear"), in_(in), out_(out) {
  CG_CHECK(in > 0 && out > 0, "MaskedLinear: widths must be positive, found in " << in << " out " << out);
  mask = register_buffer("mask", checked_binary_mask(name(), mask_in, {out, in}, "[out, in]"));
  // The same initialisation as Linear, then the masked entries set to zero (they can never
  // leave zero, see the header). The scale is not corrected for the smaller effective fan-in,
  // matching NetActivity, which draws the full dense layer and multiplies by the mask.
  weight = register_parameter("weight", mul(init_weight(init, in, out, gen), mask));
  if (use_bias) bias = register_parameter("bias", init_bias(init, in, out, gen));
}

Tensor MaskedLinear::effective_weight() const { return mul(weight, mask); }

Tensor MaskedLinear::forward(const Tensor& x) {
  CG_CHECK(x.defined() && x.rank() == 2 && x.cols() == in_,
           name() << ": expected input [N, " << in_ << "], found " << (x.defined() ? x.describe() : "undefined"));
  Tensor y = matmul(x, effective_weight(), false, true);
  return bias.defined() ? bias_add(y, bias) : y;
}

}  // namespace cg::nn
