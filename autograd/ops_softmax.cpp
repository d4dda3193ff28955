// softmax_rows and log_softmax_rows over the 2-D view, with fused backward kernels that work
// from the saved output (no need to keep the input alive).
#include "autograd/dispatch.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "kernels/cpu/softmax.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/softmax.h"
#endif

namespace cg {
namespace {

Tensor softmax_impl(const Tensor& x, bool log, const char* name) {
  CG_PROFILE_OP(name);
  detail::check_float(name, x);
  const int64_t rows = x.rows(), cols = x.cols();
  CG_CHECK(cols > 0, "op '" << name << "': the rows of " << x.describe() << " are empty (last dim 0)");
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.device() == Device::CPU)
    CG_DISPATCH_FLOAT(x.dtype(), name, T, kernels::cpu::softmax_rows<T>(x.data<T>(), y.data<T>(), rows, cols, log));
  else CG_IF_CUDA(kernels::cuda::softmax_rows(x.data<float>(), y.data<float>(), rows, cols, log));
  if (!needs_grad({&x})) return y;
  const Tensor y_saved = y.detach();  // the output itself would make a reference cycle
  return record(y, name, {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor gx = Tensor::empty(g.shape(), g.dtype(), g.device());
    if (g.device() == Device::CPU)
      CG_DISPATCH_FLOAT(
          g.dtype(), name, T,
          kernels::cpu::softmax_rows_backward<T>(g.data<T>(), y_saved.data<T>(), gx.data<T>(), rows, cols, log));
    else
      CG_IF_CUDA(kernels::cuda::softmax_rows_backward(g.data<float>(), y_saved.data<float>(), gx.data<float>(), rows,
                                                      cols, log));
    return {gx};
  });
}

}  // namespace

Tensor softmax_rows(const Tensor& x) { return softmax_impl(x, false, "softmax_rows"); }
Tensor log_softmax_rows(const Tensor& x) { return softmax_impl(x, true, "log_softmax_rows"); }

}  // namespace cg
