// dropout (Philox mask), masked_fill, where.
//
// dropout contract:
//  - p must be in [0, 1); p == 1 (and anything outside [0, 1)) throws, in training and in eval,
//    so a bad configuration fails on the first call rather than only when training starts.
//    (Keeping nothing would also need the 1/(1-p) scale to be infinite.)
//  - Identity (the input tensor itself, no generator draw) when !training or p == 0.
//  - Otherwise it reserves numel counter values from the generator; element i is dropped when
//    the Philox uniform at (seed, stream, offset, i) is < p, exactly Generator::bernoulli(p)'s
//    recipe. The mask is therefore a function of the generator state alone: the same on CPU and
//    CUDA, and the same when a gradient check re-runs the function from a fresh Generator(seed).
#include "autograd/broadcast.h"
#include "autograd/dispatch.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/rng.h"
#include "autograd/profiler.h"
#include "kernels/cpu/mask.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/mask.h"
#endif

namespace cg {

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  CG_PROFILE_OP("dropout");
  detail::check_float("dropout", x);
  CG_CHECK(p >= 0.0 && p < 1.0, "op 'dropout': p must be in [0, 1), found " << p << " for " << x.describe());
  if (!training || p == 0.0) return x;
  const int64_t n = x.numel();
  const uint64_t offset = gen.reserve(n);
  const float p32 = static_cast<float>(p);
  const double scale = 1.0 / (1.0 - p);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  // The mask holds 0 or 1/(1-p), so forward and backward are both a multiply by it.
  Tensor mask = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.device() == Device::CPU)
    CG_DISPATCH_FLOAT(x.dtype(), "dropout", T,
                      kernels::cpu::dropout_forward<T>(x.data<T>(), out.data<T>(), mask.data<T>(), n, gen.seed(),
                                                       gen.stream(), offset, p32, static_cast<T>(scale)));
  else
    CG_IF_CUDA(kernels::cuda::dropout_forward(x.data<float>(), out.data<float>(), mask.data<float>(), n, gen.seed(),
                                              gen.stream(), offset, p32, static_cast<float>(scale)));
  if (!needs_grad({&x})) return out;
  return record(out, "dropout", {x}, [mask](const Tensor& g) -> std::vector<Tensor> { return {mul(g, mask)}; });
}

namespace {
Tensor masked_fill_raw(const Tensor& x, const Tensor& mask, kernels::Bcast mode, double value) {
  const int64_t cols = x.cols(), rows = cols == 0 ? 0 : x.numel() / cols;
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.device() == Device::CPU)
    CG_DISPATCH_FLOAT(x.dtype(), "masked_fill", T,
                      kernels::cpu::masked_fill<T>(x.data<T>(), mask.data<T>(), mode, static_cast<T>(value),
                                                   out.data<T>(), rows, cols));
  else
    CG_IF_CUDA(kernels::cuda::masked_fill(x.data<float>(), mask.data<float>(), mode, static_cast<float>(value),
                                          out.data<float>(), rows, cols));
  return out;
}
}  // namespace

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  CG_PROFILE_OP("masked_fill");
  detail::check_defined("masked_fill", mask, "mask");
  detail::check_same("masked_fill", x, mask);  // float mask of x's dtype, on x's device
  // Same shape, a scalar, a row [cols]/[1, cols] or a column [rows, 1]; anything else throws
  // naming both shapes.
  const kernels::Bcast mode = detail::broadcast_mode("masked_fill", mask, x.shape());
  Tensor out = masked_fill_raw(x, mask, mode, value);
  if (!needs_grad({&x})) return out;
  const Tensor m = mask.detach();
  // Filled entries do not depend on x: their gradient is 0, i.e. the same fill applied to g.
  return record(out, "masked_fill", {x},
                [m, mode](const Tensor& g) -> std::vector<Tensor> { return {masked_fill_raw(g, m, mode, 0.0)}; });
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  CG_PROFILE_OP("where");
  detail::check_same_shape("where", a, b);
  detail::check_defined("where", cond, "cond");
  detail::check_same("where", cond, a);
  CG_CHECK(cond.shape() == a.shape(), "op 'where': cond must have the shape of a and b, found cond "
                                          << shape_str(cond.shape()) << " and a, b " << shape_str(a.shape()));
  const int64_t n = a.numel();
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  if (a.device() == Device::CPU)
    CG_DISPATCH_FLOAT(a.dtype(), "where", T,
                      kernels::cpu::where_forward<T>(cond.data<T>(), a.data<T>(), b.data<T>(), out.data<T>(), n));
  else
    CG_IF_CUDA(
        kernels::cuda::where_forward(cond.data<float>(), a.data<float>(), b.data<float>(), out.data<float>(), n));
  if (!needs_grad({&a, &b})) return out;
  const Tensor c = cond.detach();
  return record(out, "where", {a, b}, [c, n](const Tensor& g) -> std::vector<Tensor> {
    Tensor ga = Tensor::empty(g.shape(), g.dtype(), g.device()), gb = Tensor::empty(g.shape(), g.dtype(), g.device());
    if (g.device() == Device::CPU)
      CG_DISPATCH_FLOAT(g.dtype(), "where", T,
                        kernels::cpu::where_backward<T>(c.data<T>(), g.data<T>(), ga.data<T>(), gb.data<T>(), n));
    else
      CG_IF_CUDA(
          kernels::cuda::where_backward(c.data<float>(), g.data<float>(), ga.data<float>(), gb.data<float>(), n));
    return {ga, gb};
  });
}

}  // namespace cg
