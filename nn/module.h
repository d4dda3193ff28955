#pragma once
// Module: a tree of named parameters, buffers and child modules. Names are dotted paths
// ("encoder.0.weight") used by checkpoints and loggers. Parameters and buffers are Tensors
// whose TensorImpl is shared with the owning layer's members, so moving a module to another
// device or dtype, or flattening its parameters into one buffer, updates the layers in place.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace cg::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  const std::string& type_name() const { return type_name_; }

  // All parameters under this module, depth first, with dotted names.
  NamedTensors named_parameters() const;
  // Parameters that currently require gradients (frozen ones are left out).
  std::vector<Tensor> parameters() const;
  NamedTensors named_buffers() const;
  int64_t num_parameters() const;

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Frozen parameters get no gradient and are skipped by parameters().
  void freeze(bool frozen = true);

  // Moves/converts every parameter and buffer in place (the layers' members follow).
  void to(Device device);
  void to(DType dtype);
  Device device() const;
  void zero_grad();

 protected:
  Tensor register_parameter(const std::string& name, Tensor value);
  Tensor register_buffer(const std::string& name, Tensor value);
  template <class M> std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    add_child(name, child);
    return child;
  }
  // Hook for modules that must react to train/eval (none need it yet beyond the flag).
  virtual void on_train_changed() {}

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> child);
  void collect(const std::string& prefix, NamedTensors* params, NamedTensors* buffers) const;

  std::string type_name_;
  bool training_ = true;
  NamedTensors params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

// A module with one input and one output, so layers can be chained (MLP, Sequential).
class Layer : public Module {
 public:
  using Module::Module;
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }
};

// Replace a tensor's data in place (same TensorImpl) with `source`'s storage.
void rebind_storage(const Tensor& target, const Tensor& source);

}  // namespace cg::nn
