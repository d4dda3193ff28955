#include "nn/module.h"

#include "autograd/error.h"

namespace cg::nn {

void rebind_storage(const Tensor& target, const Tensor& source) {
  TensorImpl* impl = target.impl();
  impl->storage = source.storage();
  impl->offset = source.storage_offset();
  impl->dtype = source.dtype();
  impl->grad.reset();  // a gradient of the old device/dtype is meaningless now
}

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  CG_CHECK(value.defined(), type_name_ << ": parameter '" << name << "' is undefined");
  for (const auto& [n, t] : params_) CG_CHECK(n != name, type_name_ << ": parameter '" << name << "' registered twice");
  if (value.dtype() != DType::I32) value.set_requires_grad(true);
  params_.emplace_back(name, value);
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value) {
  CG_CHECK(value.defined(), type_name_ << ": buffer '" << name << "' is undefined");
  buffers_.emplace_back(name, value);
  return value;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> child) {
  CG_CHECK(child != nullptr, type_name_ << ": child module '" << name << "' is null");
  for (const auto& [n, c] : children_)
    CG_CHECK(n != name, type_name_ << ": child module '" << name << "' registered twice");
  child->train(training_);
  children_.emplace_back(name, std::move(child));
}

void Module::collect(const std::string& prefix, NamedTensors* params, NamedTensors* buffers) const {
  if (params)
    for (const auto& [n, t] : params_) params->emplace_back(prefix + n, t);
  if (buffers)
    for (const auto& [n, t] : buffers_) buffers->emplace_back(prefix + n, t);
  for (const auto& [n, c] : children_) c->collect(prefix + n + ".", params, buffers);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", &out, nullptr);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (const auto& [n, t] : named_parameters())
    if (t.requires_grad()) out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", nullptr, &out);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on);
  on_train_changed();
}

void Module::freeze(bool frozen) {
  for (auto& [n, t] : named_parameters()) {
    t.impl()->requires_grad = !frozen;
    if (frozen) t.impl()->grad.reset();
  }
}

void Module::to(Device device) {
  for (auto& [n, t] : named_parameters())
    if (t.device() != device) rebind_storage(t, t.to(device));
  for (auto& [n, t] : named_buffers())
    if (t.device() != device) rebind_storage(t, t.to(device));
}

void Module::to(DType dtype) {
  for (auto& [n, t] : named_parameters())
    if (t.dtype() != dtype) rebind_storage(t, t.to(dtype));
  for (auto& [n, t] : named_buffers())
    if (t.dtype() != dtype && t.dtype() != DType::I32) rebind_storage(t, t.to(dtype));
}

Device Module::device() const {
  const auto params = named_parameters();
  return params.empty() ? Device::CPU : params.front().second.device();
}

void Module::zero_grad() {
  for (auto& [n, t] : named_parameters()) t.zero_grad();
}

}  // namespace cg::nn
