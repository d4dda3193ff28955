#include "autograd/flat_params.h"

#include <unordered_map>

#include "autograd/engine.h"
#include "autograd/error.h"

namespace cg {

void FlatParams::zero_grad() const {
  if (!grads.defined()) return;
  Tensor g = grads;  // a handle copy: fill_ writes through to the shared storage
  g.fill_(0.0);
}

FlatParams flatten_parameters(const std::vector<Tensor>& params) {
  CG_CHECK(!params.empty(), "flatten_parameters: no parameters given");
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    CG_CHECK(p.defined(), "flatten_parameters: parameter " << i << " is an undefined tensor");
    CG_CHECK(p.dtype() != DType::I32,
             "flatten_parameters: parameter " << i << " is " << p.describe() << "; parameters must be floating-point");
    CG_CHECK(p.is_leaf(), "flatten_parameters: parameter " << i << " (" << p.describe() << ") comes from op '"
                                                           << p.grad_fn()->op << "'; parameters must be leaf tensors");
    CG_CHECK(p.device() == params[0].device() && p.dtype() == params[0].dtype(),
             "flatten_parameters: all parameters must share one device and dtype; parameter 0 is "
                 << params[0].describe() << " but parameter " << i << " is " << p.describe());
  }
  const Device device = params[0].device();
  const DType dtype = params[0].dtype();

  FlatParams flat;
  flat.offsets.resize(params.size());
  flat.numels.resize(params.size());
  std::unordered_map<const TensorImpl*, size_t> first_index;  // shared weights are stored once
  int64_t total = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    flat.numels[i] = params[i].numel();
    auto [it, inserted] = first_index.emplace(params[i].impl(), i);
    if (!inserted) {
      flat.offsets[i] = flat.offsets[it->second];
      continue;
    }
    flat.offsets[i] = total;
    total += flat.numels[i];
  }

  flat.values = Tensor::empty({total}, dtype, device);
  flat.grads = Tensor::zeros({total}, dtype, device);
  for (size_t i = 0; i < params.size(); ++i) {
    if (first_index.at(params[i].impl()) != i) continue;
    const Tensor& p = params[i];
    Tensor value_view = Tensor::view_of(flat.values.storage(), flat.offsets[i], p.shape(), dtype);
    value_view.copy_(p);
    Tensor grad_view = Tensor::view_of(flat.grads.storage(), flat.offsets[i], p.shape(), dtype);
    const Tensor old_grad = p.grad();
    if (old_grad.defined()) grad_view.copy_(old_grad);
    // Re-point the impl itself (not a new handle), so every holder of this parameter follows.
    TensorImpl* impl = p.impl();
    impl->storage = flat.values.storage();
    impl->offset = flat.offsets[i];
    impl->grad = grad_view.impl_ptr();
  }
  return flat;
}

}  // namespace cg
