// gather_rows: pick rows of x by an int32 index (embedding lookups, minibatch selection).
// x of shape [N, d1, ...] is viewed as [N, d1 * ...]; the output is [len(index), d1, ...].
// Backward scatter-adds into zeros, so a row picked k times receives the sum of k gradients.
#include "autograd/dispatch.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "kernels/cpu/index.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/index.h"
#endif

namespace cg {

Tensor gather_rows(const Tensor& x, const Tensor& index) {
  CG_PROFILE_OP("gather_rows");
  detail::check_float("gather_rows", x);
  detail::check_defined("gather_rows", index, "index");
  CG_CHECK(index.dtype() == DType::I32 && index.rank() == 1,
           "op 'gather_rows': expected a rank-1 int32 index, found " << index.describe());
  // A host index may pick rows of a device tensor: it is checked on the host, where that is free,
  // and uploaded (a minibatch's rows are chosen on the host; this spares a sync per batch).
  CG_CHECK(index.device() == x.device() || index.device() == Device::CPU,
           "op 'gather_rows': x and index are on different devices: " << x.describe() << " and " << index.describe());
  const int64_t n_rows = x.dim(0), n_index = index.numel();
  const int64_t inner = n_rows == 0 ? 0 : x.numel() / n_rows;
  // Validate before any kernel reads x[index[i]]: an out-of-range index would read (or, in
  // backward, write) outside the tensor. A device index costs one small kernel and a sync.
  int64_t bad = -1;
  if (index.device() == Device::CPU) bad = kernels::cpu::first_out_of_range(index.data<int32_t>(), n_index, n_rows);
  else CG_IF_CUDA(bad = kernels::cuda::first_out_of_range(index.data<int32_t>(), n_index, n_rows));
  if (bad >= 0) {
    const int32_t value = index.to_vector<int32_t>()[static_cast<size_t>(bad)];
    throw Error("op 'gather_rows': index[" + std::to_string(bad) + "] = " + std::to_string(value) +
                " is out of range for " + x.describe() + " (valid rows: 0 to " + std::to_string(n_rows - 1) + ")");
  }

  const Tensor on_device = index.device() == x.device() ? index : index.to(x.device());
  Shape out_shape = x.shape();
  out_shape[0] = n_index;
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  if (x.device() == Device::CPU)
    CG_DISPATCH_FLOAT(x.dtype(), "gather_rows", T,
                      kernels::cpu::gather_rows<T>(x.data<T>(), index.data<int32_t>(), out.data<T>(), n_index, inner));
  else
    CG_IF_CUDA(kernels::cuda::gather_rows(x.data<float>(), on_device.data<int32_t>(), out.data<float>(), n_index, inner));
  if (!needs_grad({&x})) return out;

  const Shape in_shape = x.shape();
  // A private copy: the caller may refill its index buffer (next minibatch) before backward.
  const Tensor idx = on_device.clone();
  return record(out, "gather_rows", {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor gx = Tensor::zeros(in_shape, g.dtype(), g.device());
    if (g.device() == Device::CPU)
      CG_DISPATCH_FLOAT(
          g.dtype(), "gather_rows", T,
          kernels::cpu::scatter_add_rows<T>(g.data<T>(), idx.data<int32_t>(), gx.data<T>(), n_index, inner));
    else
      CG_IF_CUDA(kernels::cuda::scatter_add_rows(g.data<float>(), idx.data<int32_t>(), gx.data<float>(), n_index,
                                                 inner, deterministic()));
    return {gx};
  });
}

}  // namespace cg
