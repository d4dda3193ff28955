#pragma once
// Plain structs shared by the CPU and CUDA optimizer kernels and by autograd/optim.cpp.
//
// A fused optimizer step walks a segment table: each segment is a run of elements whose
// parameter values, gradients and optimizer state are each contiguous. Parameters that sit
// next to each other in one flat buffer (and whose gradients and state do too) merge into one
// segment, so a fully flattened model is a single segment and the step is one loop / launch.
#include <cstdint>

namespace cg::kernels {

template <class T> struct OptimSegment {
  T* param;        // first parameter value of the run
  const T* grad;   // its gradient
  int64_t state;   // element offset of the run in the optimizer's flat state buffers
  int64_t length;  // elements in the run
  int64_t begin;   // running total of the lengths before this segment (for the segment search)
};

// PyTorch torch.optim.SGD with dampening = 0:
//   g = grad + weight_decay * p
//   buf = momentum * buf + g          (buf starts at zero, so the first step gives buf = g)
//   g = nesterov ? g + momentum * buf : buf      (when momentum != 0)
//   p -= lr * g
struct SgdParams {
  double lr = 0.01, momentum = 0, weight_decay = 0;
  bool nesterov = false;
};

// PyTorch torch.optim.Adam / AdamW (amsgrad off) at step t (1-based):
//   Adam:  g = grad + weight_decay * p            AdamW: p *= 1 - lr * weight_decay, g = grad
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g^2
//   p -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// The host fills step_size = lr / (1 - beta1^t) and bias2_sqrt = sqrt(1 - beta2^t), so the
// kernels need no step counter.
struct AdamParams {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool decoupled = false;  // true: AdamW
  double step_size = 0, bias2_sqrt = 1;
};

}  // namespace cg::kernels
