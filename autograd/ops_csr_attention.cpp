// csr_attention: masked attention computed only at the links of a fixed CSR pattern
// (CsrPattern, autograd/csr_pattern.h). The op boundary follows the engine's factorisation of gene tokens
// (nn/pathway_attention.h): keys and values are x[n, g] times per-gene rows, so the op takes x,
// the per-link query-key dots qk [nnz, H] (cell-independent, built by the caller from existing
// ops), the per-gene value rows and an optional per-link score bias (a soft mask's log gate).
// It never forms per-cell keys or values ([N, G, d]) nor dense weights ([N, H, P, G]); backward
// recomputes the weights from the saved [N, P, H] log-normalisers.
#include <algorithm>
#include <limits>
#include <string>

#include "autograd/dispatch.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "kernels/cpu/csr_attention.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/csr_attention.h"
#endif

namespace cg {

namespace {

template <class T> T* ptr_or_null(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }

}  // namespace

Tensor csr_attention(const Tensor& x, const Tensor& qk, const Tensor& values, const Tensor& bias,
                     const CsrPattern& pattern, Tensor* attention) {
  CG_PROFILE_OP("csr_attention");
  const char* op = "csr_attention";
  detail::check_same(op, x, qk);
  detail::check_same(op, x, values);
  CG_CHECK(pattern.row_ptr.defined() && pattern.row_ptr.numel() == pattern.rows + 1 &&
               pattern.col_ptr.numel() == pattern.cols + 1 && pattern.col_index.numel() == pattern.nnz,
           "op '" << op << "': the pattern is not a CsrPattern built by CsrPattern::from_rows");
  CG_CHECK(pattern.device() == x.device(),
           "op '" << op << "': the pattern is on " << device_name(pattern.device()) << " but x is " << x.describe());
  const int64_t P = pattern.rows, G = pattern.cols, nnz = pattern.nnz;
  CG_CHECK(x.rank() == 2 && x.dim(1) == G,
           "op '" << op << "': expected x [N, " << G << "] (the pattern's columns), found " << x.describe());
  CG_CHECK(qk.rank() == 2 && qk.dim(0) == nnz && qk.dim(1) > 0,
           "op '" << op << "': expected qk [" << nnz << ", heads] (one row per pattern entry), found "
                  << qk.describe());
  const int64_t H = qk.dim(1);
  CG_CHECK(values.rank() == 2 && values.dim(0) == G,
           "op '" << op << "': expected values [" << G << ", heads * head_dim], found " << values.describe());
  CG_CHECK(values.dim(1) > 0 && values.dim(1) % H == 0, "op '" << op << "': values width " << values.dim(1)
                                                               << " is not divisible by the " << H
                                                               << " heads of qk " << shape_str(qk.shape()));
  if (bias.defined()) {
    detail::check_same(op, x, bias);
    CG_CHECK(bias.numel() == nnz && bias.rank() == 1,
             "op '" << op << "': expected bias [" << nnz << "] (one per pattern entry), found " << bias.describe());
  }
  kernels::CsrAttentionSizes s;
  s.cells = x.dim(0);
  s.genes = G;
  s.pathways = P;
  s.heads = H;
  s.head_dim = values.dim(1) / H;
  s.nnz = nnz;
  const int64_t d = values.dim(1);
  const kernels::CsrAttentionIndex idx = pattern.index();
  const Device dev = x.device();
  const DType dt = x.dtype();

  Tensor out = Tensor::empty({s.cells, P, d}, dt, dev);
  Tensor lse = Tensor::empty({s.cells, P, H}, dt, dev);
  Tensor attn;
  if (attention) attn = Tensor::empty({s.cells, H, nnz}, dt, dev);
  if (dev == Device::CPU)
    CG_DISPATCH_FLOAT(dt, op, T,
                      kernels::cpu::csr_attention_forward<T>(x.data<T>(), qk.data<T>(), values.data<T>(),
                                                             ptr_or_null<T>(bias), idx, s, out.data<T>(),
                                                             lse.data<T>(), ptr_or_null<T>(attn)));
  else
    CG_IF_CUDA(kernels::cuda::csr_attention_forward(x.data<float>(), qk.data<float>(), values.data<float>(),
                                                    ptr_or_null<float>(bias), idx, s, out.data<float>(),
                                                    lse.data<float>(), ptr_or_null<float>(attn)));
  if (attention) *attention = attn;
  if (!needs_grad({&x, &qk, &values, &bias})) return out;

  const bool want_x = x.requires_grad(), want_qk = qk.requires_grad(), want_v = values.requires_grad();
  const bool want_b = bias.defined() && bias.requires_grad();
  const Tensor xs = x.detach(), qks = qk.detach(), vs = values.detach(), bs = bias.defined() ? bias.detach() : Tensor();
  const Tensor out_saved = out.detach();
  const CsrPattern pat = pattern;
  std::vector<Tensor> inputs{x, qk, values};
  if (bias.defined()) inputs.push_back(bias);
  return record(out, op, inputs, [=](const Tensor& g) -> std::vector<Tensor> {
    const Device gd = g.device();
    Tensor dots = Tensor::empty({s.cells, P, H}, g.dtype(), gd);
    Tensor per_entry = Tensor::empty({s.cells, std::max<int64_t>(nnz, 1)}, g.dtype(), gd);
    Tensor gx = want_x ? Tensor::empty(xs.shape(), g.dtype(), gd) : Tensor();
    Tensor gqk = want_qk ? Tensor::empty(qks.shape(), g.dtype(), gd) : Tensor();
    Tensor gv = want_v ? Tensor::empty(vs.shape(), g.dtype(), gd) : Tensor();
    Tensor gb = want_b ? Tensor::empty(bs.shape(), g.dtype(), gd) : Tensor();
    const kernels::CsrAttentionIndex ix = pat.index();
    if (gd == Device::CPU)
      CG_DISPATCH_FLOAT(g.dtype(), op, T,
                        kernels::cpu::csr_attention_backward<T>(
                            g.data<T>(), out_saved.data<T>(), lse.data<T>(), xs.data<T>(), qks.data<T>(),
                            vs.data<T>(), ptr_or_null<T>(bs), ix, s, dots.data<T>(), per_entry.data<T>(),
                            ptr_or_null<T>(gx), ptr_or_null<T>(gqk), ptr_or_null<T>(gb), ptr_or_null<T>(gv)));
    else
      CG_IF_CUDA(kernels::cuda::csr_attention_backward(
          g.data<float>(), out_saved.data<float>(), lse.data<float>(), xs.data<float>(), qks.data<float>(),
          vs.data<float>(), ptr_or_null<float>(bs), ix, s, dots.data<float>(), per_entry.data<float>(),
          ptr_or_null<float>(gx), ptr_or_null<float>(gqk), ptr_or_null<float>(gb), ptr_or_null<float>(gv)));
    std::vector<Tensor> grads{gx, gqk, gv};
    if (bs.defined()) grads.push_back(gb);
    return grads;
  });
}

}  // namespace cg
