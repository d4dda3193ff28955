// matmul and batched matmul: Eigen on the CPU, cuBLAS on CUDA. The backward reuses the same
// GEMM with transpose flags, so no transposed copies are made.
#include "autograd/dispatch.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "kernels/cpu/gemm.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/gemm.h"
#endif

namespace cg {
namespace {

struct GemmShape { int64_t batch, m, n, k; };

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
  CG_CHECK(ka == kb, "op '" << op << "': inner dimensions differ: " << shape_str(a.shape()) << (ta ? "^T" : "")
                            << " x " << shape_str(b.shape()) << (tb ? "^T" : "") << " (" << ka << " vs " << kb << ")");
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
                      kernels::cpu::gemm_batched<T>(ta, tb, s.batch, s.m, s.n, s.k, T(1), a.data<T>(), b.data<T>(), T(0), out.data<T>()));
  } else {
    CG_IF_CUDA(if (batched) kernels::cuda::gemm_batched(ta, tb, s.batch, s.m, s.n, s.k, 1.f, a.data<float>(), b.data<float>(), 0.f, out.data<float>());
               else kernels::cuda::gemm(ta, tb, s.m, s.n, s.k, 1.f, a.data<float>(), b.data<float>(), 0.f, out.data<float>()));
  }
  return out;
}

Tensor matmul_impl(const char* op, const Tensor& a, const Tensor& b, bool ta, bool tb, bool batched) {
  const GemmShape s = gemm_shape(op, a, b, ta, tb, batched);
  Tensor out = gemm_raw(a, b, ta, tb, s, batched);
  if (!needs_grad({&a, &b})) return out;
  const Tensor as = a.detach(), bs = b.detach();
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  auto mm = [batched](const Tensor& x, const Tensor& y, bool tx, bool ty) {
    return batched ? bmm(x, y, tx, ty) : matmul(x, y, tx, ty);
  };
  return record(out, op, {a, b}, [=](const Tensor& g) -> std::vector<Tensor> {
    // C = op(A) op(B):  dA = dC op(B)^T (or op(B) dC^T when A is transposed),
    //                   dB = op(A)^T dC (or dC^T op(A) when B is transposed).
    Tensor ga, gb;
    if (need_a) ga = ta ? mm(bs, g, tb, true) : mm(g, bs, false, !tb);
    if (need_b) gb = tb ? mm(g, as, true, ta) : mm(as, g, !ta, false);
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
