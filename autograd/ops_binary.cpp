// add, sub, mul, div with explicit broadcasting; bias_add; scalar add/multiply.
#include "autograd/broadcast.h"
#include "autograd/dispatch.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "kernels/cpu/elementwise.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/elementwise.h"
#endif

namespace cg {
namespace detail {
using kernels::Bcast;

Bcast broadcast_mode(const char* op, const Tensor& small, const Shape& full) {
  const Shape& s = small.shape();
  if (s == full) return Bcast::Full;
  if (small.numel() == 1) return Bcast::Scalar;
  const int64_t cols = full.back();
  const int64_t rows = cols == 0 ? 0 : shape_numel(full) / cols;
  if ((s.size() == 1 && s[0] == cols) || (s.size() == 2 && s[0] == 1 && s[1] == cols)) return Bcast::Row;
  if (s.size() == 2 && s[1] == 1 && s[0] == rows && full.size() >= 2) return Bcast::Col;
  throw Error(std::string("op '") + op + "': cannot broadcast shape " + shape_str(s) + " against " + shape_str(full) +
              " (allowed: same shape, a scalar, a row [cols] or [1, cols], a column [rows, 1])");
}

BroadcastPlan plan_broadcast(const char* op, const Tensor& a, const Tensor& b) {
  check_same(op, a, b);
  BroadcastPlan plan;
  const bool a_is_full = a.numel() >= b.numel();
  plan.out_shape = a_is_full ? a.shape() : b.shape();
  if (a_is_full) plan.b_mode = broadcast_mode(op, b, plan.out_shape);
  else plan.a_mode = broadcast_mode(op, a, plan.out_shape);
  plan.cols = plan.out_shape.back();
  plan.rows = plan.cols == 0 ? 0 : shape_numel(plan.out_shape) / plan.cols;
  return plan;
}

Tensor expand_to(const Tensor& small, Bcast mode, const Shape& full) {
  if (mode == Bcast::Full) return small;
  Tensor out = Tensor::empty(full, small.dtype(), small.device());
  const int64_t cols = full.back(), rows = cols == 0 ? 0 : shape_numel(full) / cols;
  if (small.device() == Device::CPU)
    CG_DISPATCH_FLOAT(small.dtype(), "expand", T,
                      kernels::cpu::broadcast_copy<T>(small.data<T>(), mode, out.data<T>(), rows, cols));
  else CG_IF_CUDA(kernels::cuda::broadcast_copy(small.data<float>(), mode, out.data<float>(), rows, cols));
  return out;
}

Tensor reduce_to(const Tensor& full, Bcast mode, const Shape& small) {
  switch (mode) {
    case Bcast::Full: return full;
    case Bcast::Scalar: return reshape(sum(full), small);
    case Bcast::Row: return reshape(sum_cols(full), small);
    case Bcast::Col: return reshape(sum_rows(full), small);
  }
  return full;
}

}  // namespace detail

namespace {
using detail::BroadcastPlan;
using kernels::BinaryOp;

Tensor binary_raw(BinaryOp op, const char* name, const Tensor& a, const Tensor& b, const BroadcastPlan& p) {
  Tensor out = Tensor::empty(p.out_shape, a.dtype(), a.device());
  if (a.device() == Device::CPU)
    CG_DISPATCH_FLOAT(a.dtype(), name, T,
                      kernels::cpu::binary_forward<T>(op, a.data<T>(), p.a_mode, b.data<T>(), p.b_mode, out.data<T>(),
                                                      p.rows, p.cols));
  else
    CG_IF_CUDA(kernels::cuda::binary_forward(op, a.data<float>(), p.a_mode, b.data<float>(), p.b_mode,
                                             out.data<float>(), p.rows, p.cols));
  return out;
}

Tensor binary(BinaryOp op, const char* name, const Tensor& a, const Tensor& b) {
  CG_PROFILE_OP(name);
  const BroadcastPlan p = detail::plan_broadcast(name, a, b);
  Tensor out = binary_raw(op, name, a, b, p);
  if (!needs_grad({&a, &b})) return out;
  const Tensor a_saved = a.detach(), b_saved = b.detach(), out_saved = out.detach();
  return record(out, name, {a, b}, [=](const Tensor& g) -> std::vector<Tensor> {
    using detail::reduce_to;
    Tensor ga, gb;
    switch (op) {
      case BinaryOp::Add:
        ga = g;
        gb = g;
        break;
      case BinaryOp::Sub:
        ga = g;
        gb = neg(g);
        break;
      case BinaryOp::Mul:
        ga = mul(g, b_saved);
        gb = mul(g, a_saved);
        break;
      case BinaryOp::Div:
        ga = div(g, b_saved);
        gb = neg(div(mul(g, out_saved), b_saved));
        break;
    }
    return {reduce_to(ga, p.a_mode, a_saved.shape()), reduce_to(gb, p.b_mode, b_saved.shape())};
  });
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Add, "add", a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Sub, "sub", a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, "mul", a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Div, "div", a, b); }

Tensor bias_add(const Tensor& x, const Tensor& bias) {
  CG_PROFILE_OP("bias_add");
  detail::check_same("bias_add", x, bias);
  CG_CHECK(bias.rank() == 1 && bias.dim(0) == x.cols(), "op 'bias_add': expected a bias of shape ["
                                                            << x.cols() << "] for input " << shape_str(x.shape())
                                                            << ", found " << shape_str(bias.shape()));
  BroadcastPlan p;
  p.out_shape = x.shape();
  p.rows = x.rows();
  p.cols = x.cols();
  p.b_mode = kernels::Bcast::Row;
  Tensor out = binary_raw(BinaryOp::Add, "bias_add", x, bias, p);
  const Shape bias_shape = bias.shape();
  return record(out, "bias_add", {x, bias}, [bias_shape](const Tensor& g) -> std::vector<Tensor> {
    return {g, reshape(sum_cols(g), bias_shape)};
  });
}

}  // namespace cg
