// concat, slice and transpose of 2-D tensors. Tensors are always contiguous, so each of these
// copies: concat/slice move rectangular blocks (one strided copy kernel), transpose tiles.
#include <string>

#include "autograd/dispatch.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "kernels/cpu/shape.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/shape.h"
#endif

namespace cg {
namespace {

// The block of `rows x cols` elements starting at element src_off of src (row stride src_ld) is
// copied to element dst_off of dst (row stride dst_ld). Not recorded on the tape.
void copy_block(const Tensor& src, int64_t src_off, int64_t src_ld, const Tensor& dst, int64_t dst_off, int64_t dst_ld,
                int64_t rows, int64_t cols) {
  if (src.device() == Device::CPU)
    CG_DISPATCH_FLOAT(
        src.dtype(), "copy_block", T,
        kernels::cpu::copy_block<T>(src.data<T>() + src_off, src_ld, dst.data<T>() + dst_off, dst_ld, rows, cols));
  else
    CG_IF_CUDA(kernels::cuda::copy_block(src.data<float>() + src_off, src_ld, dst.data<float>() + dst_off, dst_ld, rows,
                                         cols));
}

// Rows or columns [start, end) of a 2-D tensor into a new tensor (the forward of slice and the
// per-part backward of concat).
Tensor take_block(const Tensor& x, int axis, int64_t start, int64_t end) {
  const int64_t rows = x.dim(0), cols = x.dim(1);
  if (axis == 0) {
    Tensor out = Tensor::empty({end - start, cols}, x.dtype(), x.device());
    copy_block(x, start * cols, cols, out, 0, cols, end - start, cols);
    return out;
  }
  Tensor out = Tensor::empty({rows, end - start}, x.dtype(), x.device());
  copy_block(x, start, cols, out, 0, end - start, rows, end - start);
  return out;
}

void check_axis(const char* op, int axis) {
  CG_CHECK(axis == 0 || axis == 1, "op '" << op << "': axis must be 0 (rows) or 1 (columns), found " << axis);
}

}  // namespace

Tensor concat(const std::vector<Tensor>& parts, int axis) {
  CG_PROFILE_OP("concat");
  check_axis("concat", axis);
  CG_CHECK(!parts.empty(), "op 'concat': no tensors to concatenate");
  for (size_t i = 0; i < parts.size(); ++i) {
    detail::check_same("concat", parts[0], parts[i]);
    detail::check_rank("concat", parts[i], 2);
  }
  // The other axis must agree; build the list of shapes for the message only when it does not.
  const int other = 1 - axis;
  int64_t total = 0;
  for (const Tensor& p : parts) {
    if (p.dim(other) != parts[0].dim(other)) {
      std::string shapes;
      for (const Tensor& q : parts) shapes += (shapes.empty() ? "" : ", ") + shape_str(q.shape());
      throw Error(std::string("op 'concat': along axis ") + std::to_string(axis) + " every part needs the same " +
                  (axis == 0 ? "number of columns" : "number of rows") + ", found shapes " + shapes);
    }
    total += p.dim(axis);
  }
  const int64_t rows = axis == 0 ? total : parts[0].dim(0), cols = axis == 1 ? total : parts[0].dim(1);
  Tensor out = Tensor::empty({rows, cols}, parts[0].dtype(), parts[0].device());
  std::vector<int64_t> starts;  // where each part begins along `axis`
  int64_t at = 0;
  for (const Tensor& p : parts) {
    starts.push_back(at);
    if (axis == 0) copy_block(p, 0, cols, out, at * cols, cols, p.dim(0), cols);
    else copy_block(p, 0, p.dim(1), out, at, cols, rows, p.dim(1));
    at += p.dim(axis);
  }

  bool any = false;
  std::vector<bool> wants;
  for (const Tensor& p : parts) {
    wants.push_back(p.requires_grad());
    any = any || p.requires_grad();
  }
  if (!any || !grad_enabled()) return out;
  return record(out, "concat", parts, [=](const Tensor& g) -> std::vector<Tensor> {
    std::vector<Tensor> grads(starts.size());
    for (size_t i = 0; i < starts.size(); ++i) {
      const int64_t len = (i + 1 < starts.size() ? starts[i + 1] : total) - starts[i];
      if (wants[i]) grads[i] = take_block(g, axis, starts[i], starts[i] + len);
    }
    return grads;
  });
}

Tensor slice(const Tensor& x, int axis, int64_t start, int64_t end) {
  CG_PROFILE_OP("slice");
  check_axis("slice", axis);
  detail::check_float("slice", x);
  detail::check_rank("slice", x, 2);
  const int64_t extent = x.dim(axis);
  CG_CHECK(0 <= start && start <= end && end <= extent,
           "op 'slice': range [" << start << ", " << end << ") along axis " << axis << " is outside " << x.describe()
                                 << " (need 0 <= start <= end <= " << extent << ")");
  Tensor out = take_block(x, axis, start, end);
  if (!needs_grad({&x})) return out;
  const Shape in_shape = x.shape();
  return record(out, "slice", {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    // Zeros outside the slice, the incoming gradient inside it.
    Tensor gx = Tensor::zeros(in_shape, g.dtype(), g.device());
    const int64_t cols = in_shape[1];
    if (axis == 0) copy_block(g, 0, cols, gx, start * cols, cols, end - start, cols);
    else copy_block(g, 0, end - start, gx, start, cols, in_shape[0], end - start);
    return {gx};
  });
}

namespace {
Tensor transpose_raw(const Tensor& x) {
  const int64_t rows = x.dim(0), cols = x.dim(1);
  Tensor out = Tensor::empty({cols, rows}, x.dtype(), x.device());
  if (x.device() == Device::CPU)
    CG_DISPATCH_FLOAT(x.dtype(), "transpose", T, kernels::cpu::transpose<T>(x.data<T>(), out.data<T>(), rows, cols));
  else CG_IF_CUDA(kernels::cuda::transpose(x.data<float>(), out.data<float>(), rows, cols));
  return out;
}
}  // namespace

Tensor transpose(const Tensor& x) {
  CG_PROFILE_OP("transpose");
  detail::check_float("transpose", x);
  detail::check_rank("transpose", x, 2);
  Tensor out = transpose_raw(x);
  if (!needs_grad({&x})) return out;
  return record(out, "transpose", {x}, [](const Tensor& g) -> std::vector<Tensor> { return {transpose_raw(g)}; });
}

}  // namespace cg
