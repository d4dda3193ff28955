// csr_matmul: a sparse matrix (an expression batch in CSR) times a dense one, so that the first
// layer of an encoder does work in proportion to the nonzeros, not to cells x genes. The sparse
// side is data: only the dense side gets a gradient.
#include <string>

#include "autograd/dispatch.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "kernels/cpu/csr_matmul.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/csr_matmul.h"
#endif

namespace cg {

Tensor csr_matmul(const CsrMatrix& a, const Tensor& b) {
  CG_PROFILE_OP("csr_matmul");
  const char* op = "csr_matmul";
  detail::check_defined(op, b, "b");
  const CsrPattern& p = a.pattern;
  CG_CHECK(p.row_ptr.defined() && p.row_ptr.numel() == p.rows + 1 && p.col_ptr.numel() == p.cols + 1 &&
               p.col_index.numel() == p.nnz && a.values.defined() && a.values.numel() == p.nnz,
           "op '" << op << "': a is not a CsrMatrix built by CsrMatrix::from_csr or from_dense");
  detail::check_same(op, a.values, b);
  CG_CHECK(p.device() == b.device(),
           "op '" << op << "': a's pattern is on " << device_name(p.device()) << " but b is " << b.describe());
  CG_CHECK(b.rank() == 2 && b.dim(0) == p.cols,
           "op '" << op << "': expected b [" << p.cols << ", m] (a has " << p.cols << " columns), found "
                  << b.describe());
  const int64_t rows = p.rows, cols = p.cols, m = b.dim(1);
  const Device dev = b.device();
  const DType dt = b.dtype();
  const kernels::CsrIndex idx = p.index();
  Tensor out = Tensor::empty({rows, m}, dt, dev);
  if (dev == Device::CPU)
    CG_DISPATCH_FLOAT(dt, op, T,
                      kernels::cpu::csr_matmul_forward<T>(idx, a.values.data<T>(), rows, cols, b.data<T>(), m,
                                                          out.data<T>()));
  else
    CG_IF_CUDA(kernels::cuda::csr_matmul_forward(idx, a.values.data<float>(), rows, cols, b.data<float>(), m,
                                                 out.data<float>()));
  if (!needs_grad({&b})) return out;

  const CsrMatrix saved{a.pattern, a.values.detach()};
  return record(out, op, {b}, [saved, rows, cols, m](const Tensor& g) -> std::vector<Tensor> {
    Tensor gb = Tensor::empty({cols, m}, g.dtype(), g.device());
    const kernels::CsrIndex ix = saved.pattern.index();
    if (g.device() == Device::CPU)
      CG_DISPATCH_FLOAT(g.dtype(), "csr_matmul", T,
                        kernels::cpu::csr_matmul_backward_b<T>(ix, saved.values.data<T>(), rows, cols, g.data<T>(),
                                                               m, gb.data<T>()));
    else
      CG_IF_CUDA(kernels::cuda::csr_matmul_backward_b(ix, saved.values.data<float>(), rows, cols, g.data<float>(),
                                                      m, gb.data<float>()));
    return {gb};
  });
}

}  // namespace cg
