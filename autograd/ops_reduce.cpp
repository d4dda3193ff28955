// sum / mean over everything, each row or each column; max per row with its index.
#include "autograd/broadcast.h"
#include "autograd/dispatch.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "kernels/cpu/reduce.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/reduce.h"
#endif

namespace cg {
namespace {
using kernels::Bcast;
using kernels::ReduceAxis;

Tensor reduce(ReduceAxis axis, bool average, const char* name, const Tensor& x) {
  CG_PROFILE_OP(name);
  detail::check_float(name, x);
  const int64_t rows = x.rows(), cols = x.cols();
  Shape out_shape;
  int64_t count = 1;
  Bcast back_mode = Bcast::Scalar;
  switch (axis) {
    case ReduceAxis::All:
      out_shape = {1};
      count = rows * cols;
      back_mode = Bcast::Scalar;
      break;
    case ReduceAxis::Rows:
      out_shape = {rows, 1};
      count = cols;
      back_mode = Bcast::Col;
      break;
    case ReduceAxis::Cols:
      out_shape = {1, cols};
      count = rows;
      back_mode = Bcast::Row;
      break;
  }
  CG_CHECK(!average || count > 0, "op '" << name << "': mean over zero elements of " << x.describe());
  const double scale = average ? 1.0 / static_cast<double>(count) : 1.0;
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  if (x.device() == Device::CPU)
    CG_DISPATCH_FLOAT(x.dtype(), name, T,
                      kernels::cpu::reduce_sum<T>(x.data<T>(), out.data<T>(), rows, cols, axis, scale));
  else CG_IF_CUDA(kernels::cuda::reduce_sum(x.data<float>(), out.data<float>(), rows, cols, axis, scale));
  if (!needs_grad({&x})) return out;
  const Shape in_shape = x.shape();
  // The 2-D view of the input, so a column/row gradient expands over rows x cols.
  const Shape view = {rows, cols};
  return record(out, name, {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor gx = detail::expand_to(g, back_mode, view);
    if (average) gx = mul_scalar(gx, scale);
    return {reshape(gx, in_shape)};
  });
}
}  // namespace

Tensor sum(const Tensor& x) { return reduce(ReduceAxis::All, false, "sum", x); }
Tensor mean(const Tensor& x) { return reduce(ReduceAxis::All, true, "mean", x); }
Tensor sum_rows(const Tensor& x) { return reduce(ReduceAxis::Rows, false, "sum_rows", x); }
Tensor mean_rows(const Tensor& x) { return reduce(ReduceAxis::Rows, true, "mean_rows", x); }
Tensor sum_cols(const Tensor& x) { return reduce(ReduceAxis::Cols, false, "sum_cols", x); }
Tensor mean_cols(const Tensor& x) { return reduce(ReduceAxis::Cols, true, "mean_cols", x); }

MaxRows max_rows(const Tensor& x) {
  CG_PROFILE_OP("max_rows");
  detail::check_float("max_rows", x);
  const int64_t rows = x.rows(), cols = x.cols();
  CG_CHECK(cols > 0, "op 'max_rows': rows of " << x.describe() << " are empty");
  Tensor values = Tensor::empty({rows, 1}, x.dtype(), x.device());
  Tensor index = Tensor::empty({rows}, DType::I32, x.device());
  if (x.device() == Device::CPU)
    CG_DISPATCH_FLOAT(x.dtype(), "max_rows", T,
                      kernels::cpu::max_rows<T>(x.data<T>(), values.data<T>(), index.data<int32_t>(), rows, cols));
  else CG_IF_CUDA(kernels::cuda::max_rows(x.data<float>(), values.data<float>(), index.data<int32_t>(), rows, cols));
  if (needs_grad({&x})) {
    const Shape in_shape = x.shape();
    const Tensor idx = index;
    values = record(values, "max_rows", {x}, [=](const Tensor& g) -> std::vector<Tensor> {
      Tensor gx = Tensor::empty(in_shape, g.dtype(), g.device());
      if (g.device() == Device::CPU)
        CG_DISPATCH_FLOAT(
            g.dtype(), "max_rows", T,
            kernels::cpu::max_rows_backward<T>(g.data<T>(), idx.data<int32_t>(), gx.data<T>(), rows, cols));
      else
        CG_IF_CUDA(
            kernels::cuda::max_rows_backward(g.data<float>(), idx.data<int32_t>(), gx.data<float>(), rows, cols));
      return {gx};
    });
  }
  return {values, index};
}

}  // namespace cg
