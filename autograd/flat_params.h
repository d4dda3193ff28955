#pragma once
// Flat parameter buffers. flatten_parameters moves a model's parameters into one contiguous
// values storage and gives each a gradient that is a view into one contiguous gradient
// storage. Afterwards:
//  - backward accumulates each leaf gradient in place into its view (run_backward adds into an
//    existing gradient instead of replacing it), so gradients never leave the flat buffer;
//  - zeroing every gradient is one fill, and the optimizers see adjacent parameters as one
//    segment, so a fused step over the whole model is a single kernel launch;
//  - a steady-state training step allocates nothing for parameters or gradients.
#include <cstdint>
#include <vector>

#include "autograd/tensor.h"

namespace cg {

struct FlatParams {
  Tensor values;                 // 1-D over every parameter, in the order given
  Tensor grads;                  // 1-D, same layout as values
  std::vector<int64_t> offsets;  // element offset of params[i] in values/grads
  std::vector<int64_t> numels;   // elements of params[i]

  // Zeroes every gradient with one fill.
  void zero_grad() const;
};

// Requirements: at least one parameter; all defined, leaf, floating-point tensors on one device
// with one dtype (an error names the first that differs). The same tensor listed twice (a
// shared weight) is stored once; both entries get its offset.
//
// Each param's TensorImpl is re-pointed (storage and offset) into the flat values storage, so
// every copy of that Tensor handle sees the move; views taken earlier with detach() or
// view_of() keep pointing at the old memory. The new gradient is a view into the flat gradient
// storage holding the param's existing gradient if it had one, zeros otherwise.
FlatParams flatten_parameters(const std::vector<Tensor>& params);

}  // namespace cg
