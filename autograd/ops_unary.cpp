// Elementwise unary ops: one forward kernel and one derivative kernel per op (kernels/unary_math.h).
#include "autograd/dispatch.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "kernels/cpu/elementwise.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/elementwise.h"
#endif

namespace cg {
namespace {
using kernels::UnaryOp;
using kernels::UnaryParams;

Tensor unary(UnaryOp op, const char* name, const Tensor& x, UnaryParams params = {}) {
  CG_PROFILE_OP(name);
  detail::check_float(name, x);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.device() == Device::CPU)
    CG_DISPATCH_FLOAT(x.dtype(), name, T,
                      kernels::cpu::unary_forward<T>(op, params, x.data<T>(), y.data<T>(), x.numel()));
  else CG_IF_CUDA(kernels::cuda::unary_forward(op, params, x.data<float>(), y.data<float>(), x.numel()));
  if (!needs_grad({&x})) return y;
  const Tensor xs = x.detach(), ys = y.detach();
  return record(y, name, {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor gx = Tensor::empty(xs.shape(), xs.dtype(), xs.device());
    if (xs.device() == Device::CPU)
      CG_DISPATCH_FLOAT(xs.dtype(), name, T,
                        kernels::cpu::unary_backward<T>(op, params, xs.data<T>(), ys.data<T>(), g.data<T>(),
                                                        gx.data<T>(), xs.numel()));
    else
      CG_IF_CUDA(kernels::cuda::unary_backward(op, params, xs.data<float>(), ys.data<float>(), g.data<float>(),
                                               gx.data<float>(), xs.numel()));
    return {gx};
  });
}
}  // namespace

Tensor relu(const Tensor& x) { return unary(UnaryOp::Relu, "relu", x); }
Tensor leaky_relu(const Tensor& x, double slope) { return unary(UnaryOp::LeakyRelu, "leaky_relu", x, {slope, 0}); }
Tensor elu(const Tensor& x, double alpha) { return unary(UnaryOp::Elu, "elu", x, {alpha, 0}); }
Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::Sigmoid, "sigmoid", x); }
Tensor tanh(const Tensor& x) { return unary(UnaryOp::Tanh, "tanh", x); }
Tensor softplus(const Tensor& x) { return unary(UnaryOp::Softplus, "softplus", x); }
Tensor exp(const Tensor& x) { return unary(UnaryOp::Exp, "exp", x); }
Tensor log(const Tensor& x) { return unary(UnaryOp::Log, "log", x); }
Tensor square(const Tensor& x) { return unary(UnaryOp::Square, "square", x); }
Tensor sqrt(const Tensor& x) { return unary(UnaryOp::Sqrt, "sqrt", x); }
Tensor pow(const Tensor& x, double exponent) { return unary(UnaryOp::Pow, "pow", x, {exponent, 0}); }
Tensor abs(const Tensor& x) { return unary(UnaryOp::Abs, "abs", x); }
Tensor clamp(const Tensor& x, double lo, double hi) {
  CG_CHECK(lo <= hi, "op 'clamp': lower bound " << lo << " is above upper bound " << hi);
  return unary(UnaryOp::Clamp, "clamp", x, {lo, hi});
}
Tensor neg(const Tensor& x) { return unary(UnaryOp::Neg, "neg", x); }
Tensor lgamma(const Tensor& x) { return unary(UnaryOp::Lgamma, "lgamma", x); }
Tensor add_scalar(const Tensor& a, double s) { return unary(UnaryOp::Affine, "add_scalar", a, {1.0, s}); }
Tensor mul_scalar(const Tensor& a, double s) { return unary(UnaryOp::Affine, "mul_scalar", a, {s, 0.0}); }

}  // namespace cg
