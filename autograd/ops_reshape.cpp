// reshape: a new shape over the same storage (tensors are always contiguous, so it is free).
#include "autograd/dispatch.h"
#include "autograd/engine.h"
#include "autograd/ops.h"

namespace cg {

Tensor reshape(const Tensor& x, const Shape& shape) {
  detail::check_defined("reshape", x);
  Shape target = shape;
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1) {
      CG_CHECK(infer < 0, "op 'reshape': more than one -1 in " << shape_str(shape));
      infer = static_cast<int>(i);
    } else {
      known *= target[i];
    }
  }
  if (infer >= 0 && known > 0) target[infer] = x.numel() / known;
  CG_CHECK(shape_numel(target) == x.numel(),
           "op 'reshape': cannot view " << x.describe() << " as " << shape_str(shape) << " (element counts differ)");
  Tensor out = Tensor::view_of(x.storage(), x.storage_offset(), target, x.dtype());
  if (!needs_grad({&x})) return out;
  const Shape in_shape = x.shape();
  return record(out, "reshape", {x},
                [in_shape](const Tensor& g) -> std::vector<Tensor> { return {reshape(g, in_shape)}; });
}

}  // namespace cg
