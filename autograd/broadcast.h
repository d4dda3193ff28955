#pragma once
// The explicit broadcasting rule of binary ops (see ops.h) and the two helpers every backward
// of a broadcast op needs: expand a small gradient to the full shape, and sum a full gradient
// down to the small operand's shape.
#include "autograd/tensor.h"
#include "kernels/kernel_types.h"

namespace cg::detail {

struct BroadcastPlan {
  Shape out_shape;
  int64_t rows = 0, cols = 0;  // the 2-D view of the output
  kernels::Bcast a_mode = kernels::Bcast::Full, b_mode = kernels::Bcast::Full;
};

// Throws, naming the op and both shapes, when the pair is not one of the allowed patterns.
BroadcastPlan plan_broadcast(const char* op, const Tensor& a, const Tensor& b);
// How `small` maps onto a tensor of shape `full`, or throws naming the op.
kernels::Bcast broadcast_mode(const char* op, const Tensor& small, const Shape& full);

// Not recorded on the tape: these run inside backward closures.
Tensor expand_to(const Tensor& small, kernels::Bcast mode, const Shape& full);
Tensor reduce_to(const Tensor& full, kernels::Bcast mode, const Shape& small);

}  // namespace cg::detail
