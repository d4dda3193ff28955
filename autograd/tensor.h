#pragma once
// Tensor: a handle (shared_ptr) to rank 1-4, row-major, contiguous data on one device, plus its
// autograd state. Copies of a Tensor share everything; clone() copies data. A tensor may be a
// view into a larger Storage (flat parameter buffers), located by an element offset.
#include <memory>
#include <string>
#include <vector>

#include "autograd/dtype.h"
#include "autograd/storage.h"

namespace cg {

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);

struct Node;

struct TensorImpl {
  StoragePtr storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  DType dtype = DType::F32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<Node> grad_fn;  // null for leaves
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- creation ----------------------------------------------------------------------------
  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor ones(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape, Device device = Device::CPU);
  static Tensor from_vector(const std::vector<double>& values, const Shape& shape, Device device = Device::CPU);
  static Tensor from_indices(const std::vector<int32_t>& values, Device device = Device::CPU);
  // A tensor over part of an existing storage (flat parameter/gradient buffers).
  static Tensor view_of(StoragePtr storage, int64_t offset, const Shape& shape, DType dtype);

  // ---- shape and placement -------------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int rank() const { return static_cast<int>(shape().size()); }
  int64_t dim(int i) const;  // negative counts from the end
  int64_t numel() const;
  // The 2-D view that most kernels use: rows = product of leading dims, cols = last dim.
  int64_t rows() const;
  int64_t cols() const;
  DType dtype() const;
  Device device() const;
  std::string describe() const;  // "float32[32, 800] on cpu"

  void* raw_data() const;
  template <class T> T* data() const;  // checks the dtype; any device
  const StoragePtr& storage() const;
  int64_t storage_offset() const;

  // ---- copies and transfers (not recorded by autograd) -------------------------------------------
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;  // float32 <-> float64 <-> int32, CPU only for float64
  Tensor clone() const;
  template <class T> std::vector<T> to_vector() const;  // host copy, converted to T
  double item() const;                                  // the single value of a one-element tensor
  void copy_(const Tensor& src);                        // same numel and dtype, any devices
  void fill_(double value);

  // ---- autograd ------------------------------------------------------------------------------------
  bool requires_grad() const;
  Tensor& set_requires_grad(bool on = true);
  Tensor grad() const;
  void set_grad(const Tensor& g);
  void zero_grad();  // fills an existing gradient with zeros (keeps flat-buffer views alive)
  const std::shared_ptr<Node>& grad_fn() const;
  bool is_leaf() const;
  Tensor detach() const;  // same storage, no history
  // Reverse-mode from this tensor: a one-element tensor, or any tensor with an explicit gradient.
  // The tape is released afterwards unless retain_graph (per-task gradients: GradNorm, PCGrad).
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  void require_defined(const char* what) const;
  std::shared_ptr<TensorImpl> impl_;
};

}  // namespace cg
