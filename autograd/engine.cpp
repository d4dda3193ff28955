#include "autograd/engine.h"

#include <unordered_map>
#include <unordered_set>

#include "autograd/dispatch.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "kernels/cpu/elementwise.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/elementwise.h"
#endif

namespace cg {

namespace {
thread_local bool t_grad_enabled = true;

// dst += src, in place (keeps views into flat gradient buffers valid).
void accumulate_in_place(const Tensor& dst, const Tensor& src) {
  if (dst.device() == Device::CPU) {
    CG_DISPATCH_FLOAT(dst.dtype(), "accumulate", T,
                      kernels::cpu::axpy<T>(T(1), src.data<T>(), dst.data<T>(), dst.numel()));
  } else {
    CG_IF_CUDA(kernels::cuda::axpy(1.0f, src.data<float>(), dst.data<float>(), dst.numel()));
  }
}
}  // namespace

bool grad_enabled() { return t_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!t_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

Tensor record(Tensor out, const char* op, std::vector<Tensor> inputs, BackwardFn backward) {
  if (!t_grad_enabled) return out;
  bool any = false;
  for (const Tensor& t : inputs) {
    if (!t.defined() || !t.requires_grad()) continue;
    any = true;
    const auto& fn = t.grad_fn();
    CG_CHECK(!(fn && fn->released), "op '" << op << "': an input was produced by '" << fn->op
                                           << "', whose tape was already released by backward(); detach() it "
                                              "or recompute it");
  }
  if (!any) return out;
  auto node = std::make_shared<Node>();
  node->op = op;
  node->inputs = std::move(inputs);
  node->backward = std::move(backward);
  out.impl()->requires_grad = true;
  out.impl()->grad_fn = std::move(node);
  return out;
}

namespace {
// The nodes reachable from `root`, each after every node it feeds (iterative depth-first
// search, post-order): reversed, an order in which a node's gradient is complete before use.
std::vector<Node*> post_order(Node* root) {
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, size_t>> stack{{root, 0}};
  seen.insert(root);
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      const Tensor& in = node->inputs[next++];
      if (in.defined() && in.requires_grad() && in.grad_fn()) {
        Node* child = in.grad_fn().get();
        CG_CHECK(!child->released,
                 "backward: the tape of '" << child->op << "' was already released by an earlier backward()");
        if (seen.insert(child).second) stack.emplace_back(child, 0);
      }
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  return order;
}
}  // namespace

void run_backward(const Tensor& root, const Tensor& grad_in, bool retain_graph) {
  CG_CHECK(root.requires_grad(), "backward: the tensor " << root.describe()
                                                         << " does not require a gradient (no input of its graph "
                                                            "requires one, or it was made under no_grad)");
  Tensor grad = grad_in;
  if (!grad.defined()) {
    CG_CHECK(root.numel() == 1, "backward: called on the non-scalar " << root.describe()
                                                                      << " without a gradient; pass one of the same "
                                                                         "shape or reduce to a scalar first");
    grad = Tensor::ones(root.shape(), root.dtype(), root.device());
  } else {
    CG_CHECK(grad.shape() == root.shape() && grad.dtype() == root.dtype() && grad.device() == root.device(),
             "backward: gradient " << grad.describe() << " does not match the output " << root.describe());
  }

  NoGradGuard no_grad;  // backward closures compute with ops, without recording them

  auto accumulate_leaf = [](const Tensor& leaf, const Tensor& g) {
    Tensor existing = leaf.grad();
    if (existing.defined()) accumulate_in_place(existing, g);
    else leaf.impl()->grad = g.clone().impl_ptr();  // g may be shared with another input's gradient
  };

  if (root.is_leaf()) {
    accumulate_leaf(root, grad);
    return;
  }
  CG_CHECK(!root.grad_fn()->released,
           "backward: the tape of '" << root.grad_fn()->op << "' was already released by an earlier backward()");

  const std::vector<Node*> order = post_order(root.grad_fn().get());

  std::unordered_map<Node*, Tensor> grads;
  grads[root.grad_fn().get()] = grad;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    auto found = grads.find(node);
    if (found == grads.end()) continue;  // no gradient flowed into this node
    Tensor g = found->second;
    grads.erase(found);
    std::vector<Tensor> input_grads;
    {
      const profiler::Scope timed(node->op.c_str(), profiler::Pass::Backward);
      input_grads = node->backward(g);
    }
    CG_CHECK(input_grads.size() == node->inputs.size(), "backward of '" << node->op << "' returned "
                                                                        << input_grads.size() << " gradients for "
                                                                        << node->inputs.size() << " inputs");
    for (size_t i = 0; i < input_grads.size(); ++i) {
      const Tensor& in = node->inputs[i];
      const Tensor& gi = input_grads[i];
      if (!in.defined() || !in.requires_grad() || !gi.defined()) continue;
      CG_CHECK(gi.shape() == in.shape(), "backward of '" << node->op << "': gradient " << gi.describe()
                                                         << " does not match input " << i << " " << in.describe());
      if (in.grad_fn()) {
        Node* child = in.grad_fn().get();
        auto slot = grads.find(child);
        if (slot == grads.end()) grads.emplace(child, gi);
        else slot->second = add(slot->second, gi);
      } else {
        accumulate_leaf(in, gi);
      }
    }
  }

  // Release the tape: saved tensors and inputs go now, not when the last output dies.
  if (retain_graph) return;
  for (Node* node : order) {
    node->backward = nullptr;
    node->inputs.clear();
    node->released = true;
  }
}

}  // namespace cg
