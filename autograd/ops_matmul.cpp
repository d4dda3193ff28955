// matmul and batched matmul: OpenBLAS (or Eigen) on the CPU, cuBLAS on CUDA. The backward reuses the same
// GEMM with transpose flags, so no transposed copies are made.
#include "autograd/dispatch.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "kernels/cpu/gemm.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/gemm.h"
#endif

namespace cg {
namespace {

struct GemmShape {
  int64_t batch, m, n, k;
};

GemmShape gemm_shape(const char* op, const Tensor& a, const Tensor& b, bool ta, bool tb, bool batched) {
  detail::check_same(op, a, b);
  const int r = batched ? 3 : 2;
  CG_CHECK(a.rank() == r && b.rank() == r, "op '" << op << "': expected rank-" << r << " inputs, found "
                                                  << shape_str(a.shape()) << " and " << shape_str(b.shape()));
  const int o = batched ? 1 : 0;
  const int64_t batch = batched ? a.dim(0) : 1;
  CG_CHECK(!batched || b.dim(0) == batch,
           "op '" << op << "': batch sizes differ, " << shape_str(a.shape()) << " and " << shape_str(b.shape()));
  const int64_t m = ta ? a.dim(o + 1) : a.dim(o), ka = ta ? a.dim(o) : a.dim(o + 1);
  const int64_t kb = tb ? b.dim(o + 1) : b.dim(o), n = tb ? b.dim(o) : b.dim(o + 1);
  CG_CHECK(ka == kb, "op '" << op << "': inner dimensions differ: " << shape_str(a.shape()) << (ta ? "^T" : "") << " x "
                            << shape_str(b.shape()) << (tb ? "^T" : "") << " (" << ka << " vs " << kb << ")");
  return {batch, m, n, ka};
}

Tensor gemm_raw(const Tensor& a, const Tensor& b, bool ta, bool tb, const GemmShape& s, bool batched) {
  Tensor out = Tensor::empty(batched ? Shape{s.batch, s.m, s.n} : Shape{s.m, s.n}, a.dtype(), a.device());
  if (s.k == 0) {
    out.fill_(0.0);
    return out;
  }
  if (a.device() == Device::CPU) {
    CG_DISPATCH_FLOAT(a.dtype(), "matmul", T,
                      kernels::cpu::gemm_batched<T>(ta, tb, s.batch, s.m, s.n, s.k, T(1), a.data<T>(), b.data<T>(),
                                                    T(0), out.data<T>()));
  } else {
    CG_IF_CUDA(
        if (batched) kernels::cuda::gemm_batched(ta, tb, s.batch, s.m, s.n, s.k, 1.f, a.data<float>(), b.data<float>(),
                                                 0.f, out.data<float>());
        else kernels::cuda::gemm(ta, tb, s.m, s.n, s.k, 1.f, a.data<float>(), b.data<float>(), 0.f, out.data<float>()));
  }
  return out;
}

// leaf.grad += op(x) op(y), as one GEMM with beta = 1, when the leaf already has a CPU gradient
// (every step after the first; after zero_grad it holds zeros). This replaces a temporary the
// size of the weight plus the engine's separate accumulate pass, which on scGen's 12.6M weights
// were a third of the backward's memory traffic. Returns false (the caller returns the gradient
// as usual) for a non-leaf, a missing gradient, or CUDA. The engine skips an input whose
// gradient comes back undefined.
bool accumulate_into_leaf(const Tensor& leaf, const Tensor& x, const Tensor& y, bool tx, bool ty) {
  if (!leaf.defined() || leaf.device() != Device::CPU || grad_enabled()) return false;
  const Tensor acc = leaf.grad();
  if (!acc.defined() || acc.shape() != leaf.shape() || acc.dtype() != leaf.dtype() || acc.device() != Device::CPU)
    return false;
  const GemmShape s = gemm_shape("matmul", x, y, tx, ty, false);
  if (s.m != acc.dim(0) || s.n != acc.dim(1)) return false;
  if (s.k == 0) return true;
  CG_DISPATCH_FLOAT(acc.dtype(), "matmul", T,
                    kernels::cpu::gemm<T>(tx, ty, s.m, s.n, s.k, T(1), x.data<T>(), y.data<T>(), T(1), acc.data<T>()));
  return true;
}

Tensor matmul_impl(const char* op, const Tensor& a, const Tensor& b, bool ta, bool tb, bool batched) {
  CG_PROFILE_OP(op);
  const GemmShape s = gemm_shape(op, a, b, ta, tb, batched);
  Tensor out = gemm_raw(a, b, ta, tb, s, batched);
  if (!needs_grad({&a, &b})) return out;
  const Tensor as = a.detach(), bs = b.detach();
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  auto mm = [batched](const Tensor& x, const Tensor& y, bool tx, bool ty) {
    return batched ? bmm(x, y, tx, ty) : matmul(x, y, tx, ty);
  };
  // A leaf operand (a weight) is captured itself, not detached, so that backward can add its
  // gradient straight into the leaf's existing .grad (see accumulate_into_leaf).
  const Tensor a_leaf = need_a && a.is_leaf() ? a : Tensor(), b_leaf = need_b && b.is_leaf() ? b : Tensor();
  return record(out, op, {a, b}, [=](const Tensor& g) -> std::vector<Tensor> {
    // C = op(A) op(B):  dA = dC op(B)^T (or op(B) dC^T when A is transposed),
    //                   dB = op(A)^T dC (or dC^T op(A) when B is transposed).
    Tensor ga, gb;
    if (need_a &&
        !(!batched && accumulate_into_leaf(a_leaf, ta ? bs : g, ta ? g : bs, ta ? tb : false, ta ? true : !tb)))
      ga = ta ? mm(bs, g, tb, true) : mm(g, bs, false, !tb);
    if (need_b &&
        !(!batched && accumulate_into_leaf(b_leaf, tb ? g : as, tb ? as : g, tb ? true : !ta, tb ? ta : false)))
      gb = tb ? mm(g, as, true, ta) : mm(as, g, !ta, false);
    return {ga, gb};
  });
}
}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  return matmul_impl("matmul", a, b, trans_a, trans_b, false);
}
Tensor bmm(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  return matmul_impl("bmm", a, b, trans_a, trans_b, true);
}

}  // namespace cg
