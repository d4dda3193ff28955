#pragma once
// The reverse-mode tape. Every differentiable op records a Node that holds its inputs and a
// backward closure (with whatever it saved). Tensor::backward walks the nodes in reverse
// topological order and then releases them, freeing the saved tensors.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace cg {

// Maps the gradient of an op's output to the gradients of its inputs (same order as
// Node::inputs; an undefined Tensor means "no gradient for this input").
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

struct Node {
  std::string op;
  std::vector<Tensor> inputs;
  BackwardFn backward;
  bool released = false;
};

// Whether ops record the tape (thread-local, on by default).
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Called by every op after computing `out`: if gradients are on and some input requires
// them, attaches a Node so that backward can reach the inputs. The closure must not capture
// `out` itself (that would be a reference cycle); capture out.detach() instead.
Tensor record(Tensor out, const char* op, std::vector<Tensor> inputs, BackwardFn backward);

// True when any input requires a gradient and recording is on.
bool needs_grad(std::initializer_list<const Tensor*> inputs);

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph = false);

}  // namespace cg
