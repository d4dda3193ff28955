#include "autograd/tensor.h"

#include <cstring>
#include <sstream>

#include "autograd/dispatch.h"
#include "autograd/engine.h"
#include "kernels/cpu/elementwise.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/runtime.h"
#endif

namespace cg {

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

namespace {

void check_shape(const Shape& shape) {
  CG_CHECK(!shape.empty() && shape.size() <= 4, "tensor: expected rank 1 to 4, found shape " << shape_str(shape));
  for (int64_t d : shape) CG_CHECK(d >= 0, "tensor: negative dimension in shape " << shape_str(shape));
}

void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes) {
  if (bytes == 0) return;
  if (dst_dev == Device::CPU && src_dev == Device::CPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
#ifdef CELLGRAD_CUDA
  if (dst_dev == Device::CUDA && src_dev == Device::CPU) kernels::cuda::copy_host_to_device(dst, src, bytes);
  else if (dst_dev == Device::CPU && src_dev == Device::CUDA) kernels::cuda::copy_device_to_host(dst, src, bytes);
  else kernels::cuda::copy_device_to_device(dst, src, bytes);
#else
  throw Error("tensor copy: this build of cellgrad has no CUDA support");
#endif
}

}  // namespace

// ---- creation ------------------------------------------------------------------------------------

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  check_shape(shape);
  CG_CHECK(!(dtype == DType::F64 && device == Device::CUDA), "tensor: float64 is supported on the cpu only");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(shape_numel(shape) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape, Device device) {
  CG_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape),
           "tensor from_vector: " << values.size() << " values do not fill shape " << shape_str(shape));
  Tensor t = empty(shape, DType::F32, device);
  copy_bytes(t.raw_data(), device, values.data(), Device::CPU, values.size() * sizeof(float));
  return t;
}

Tensor Tensor::from_vector(const std::vector<double>& values, const Shape& shape, Device device) {
  CG_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape),
           "tensor from_vector: " << values.size() << " values do not fill shape " << shape_str(shape));
  CG_CHECK(device == Device::CPU, "tensor from_vector: float64 is supported on the cpu only");
  Tensor t = empty(shape, DType::F64, device);
  std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(double));
  return t;
}

Tensor Tensor::from_indices(const std::vector<int32_t>& values, Device device) {
  Tensor t = empty({static_cast<int64_t>(values.size())}, DType::I32, device);
  copy_bytes(t.raw_data(), device, values.data(), Device::CPU, values.size() * sizeof(int32_t));
  return t;
}

Tensor Tensor::view_of(StoragePtr storage, int64_t offset, const Shape& shape, DType dtype) {
  check_shape(shape);
  CG_CHECK(storage != nullptr, "tensor view_of: null storage");
  CG_CHECK(
      (offset + shape_numel(shape)) * static_cast<int64_t>(dtype_size(dtype)) <= static_cast<int64_t>(storage->bytes()),
      "tensor view_of: a view of shape " << shape_str(shape) << " at offset " << offset
                                         << " runs past the end of a storage of " << storage->bytes() << " bytes");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->offset = offset;
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

// ---- shape and placement -------------------------------------------------------------------------

void Tensor::require_defined(const char* what) const {
  CG_CHECK(impl_ != nullptr, "tensor " << what << ": the tensor is undefined");
}
const Shape& Tensor::shape() const {
  require_defined("shape");
  return impl_->shape;
}
int64_t Tensor::dim(int i) const {
  const int r = rank();
  const int k = i < 0 ? r + i : i;
  CG_CHECK(k >= 0 && k < r, "tensor dim: index " << i << " out of range for shape " << shape_str(shape()));
  return impl_->shape[k];
}
int64_t Tensor::numel() const { return shape_numel(shape()); }
int64_t Tensor::cols() const { return shape().back(); }
int64_t Tensor::rows() const {
  const int64_t c = cols();
  return c == 0 ? shape_numel(Shape(shape().begin(), shape().end() - 1)) : numel() / c;
}
DType Tensor::dtype() const {
  require_defined("dtype");
  return impl_->dtype;
}
Device Tensor::device() const {
  require_defined("device");
  return impl_->storage->device();
}
std::string Tensor::describe() const {
  if (!impl_) return "undefined tensor";
  return std::string(dtype_name(dtype())) + shape_str(shape()) + " on " + device_name(device());
}
void* Tensor::raw_data() const {
  require_defined("data");
  return static_cast<char*>(impl_->storage->data()) + impl_->offset * dtype_size(impl_->dtype);
}
template <class T> T* Tensor::data() const {
  constexpr DType want = std::is_same_v<T, float> ? DType::F32 : std::is_same_v<T, double> ? DType::F64 : DType::I32;
  CG_CHECK(dtype() == want, "tensor data: requested " << dtype_name(want) << " from " << describe());
  return static_cast<T*>(raw_data());
}
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;
template int32_t* Tensor::data<int32_t>() const;

const StoragePtr& Tensor::storage() const {
  require_defined("storage");
  return impl_->storage;
}
int64_t Tensor::storage_offset() const {
  require_defined("storage_offset");
  return impl_->offset;
}

// ---- copies and transfers ------------------------------------------------------------------------

Tensor Tensor::to(Device device) const {
  require_defined("to(device)");
  if (device == this->device()) return *this;
  Tensor out = empty(shape(), dtype(), device);
  copy_bytes(out.raw_data(), device, raw_data(), this->device(), numel() * dtype_size(dtype()));
  return out;
}

Tensor Tensor::to(DType target) const {
  require_defined("to(dtype)");
  if (target == dtype()) return *this;
  CG_CHECK(device() == Device::CPU, "tensor to(dtype): conversion runs on the cpu; move " << describe() << " first");
  Tensor out = empty(shape(), target, Device::CPU);
  const int64_t n = numel();
  using namespace kernels::cpu;
  if (dtype() == DType::F32 && target == DType::F64) convert(data<float>(), out.data<double>(), n);
  else if (dtype() == DType::F64 && target == DType::F32) convert(data<double>(), out.data<float>(), n);
  else if (dtype() == DType::I32 && target == DType::F32) convert(data<int32_t>(), out.data<float>(), n);
  else if (dtype() == DType::I32 && target == DType::F64) convert(data<int32_t>(), out.data<double>(), n);
  else if (dtype() == DType::F32) convert(data<float>(), out.data<int32_t>(), n);
  else convert(data<double>(), out.data<int32_t>(), n);
  return out;
}

Tensor Tensor::clone() const {
  require_defined("clone");
  Tensor out = empty(shape(), dtype(), device());
  copy_bytes(out.raw_data(), device(), raw_data(), device(), numel() * dtype_size(dtype()));
  return out;
}

template <class T> std::vector<T> Tensor::to_vector() const {
  Tensor host = to(Device::CPU);
  std::vector<T> out(static_cast<size_t>(numel()));
  switch (dtype()) {
    case DType::F32:
      for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<T>(host.data<float>()[i]);
      break;
    case DType::F64:
      for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<T>(host.data<double>()[i]);
      break;
    case DType::I32:
      for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<T>(host.data<int32_t>()[i]);
      break;
  }
  return out;
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;

double Tensor::item() const {
  CG_CHECK(numel() == 1, "tensor item: expected a one-element tensor, found " << describe());
  return to_vector<double>()[0];
}

void Tensor::copy_(const Tensor& src) {
  require_defined("copy_");
  CG_CHECK(src.defined() && src.numel() == numel() && src.dtype() == dtype(),
           "tensor copy_: cannot copy " << src.describe() << " into " << describe());
  copy_bytes(raw_data(), device(), src.raw_data(), src.device(), numel() * dtype_size(dtype()));
}

void Tensor::fill_(double value) {
  require_defined("fill_");
  const int64_t n = numel();
  if (device() == Device::CPU) {
    switch (dtype()) {
      case DType::F32: kernels::cpu::fill(data<float>(), static_cast<float>(value), n); break;
      case DType::F64: kernels::cpu::fill(data<double>(), value, n); break;
      case DType::I32: kernels::cpu::fill(data<int32_t>(), static_cast<int32_t>(value), n); break;
    }
    return;
  }
  CG_IF_CUDA(if (dtype() == DType::I32) kernels::cuda::fill_i32(data<int32_t>(), static_cast<int32_t>(value), n);
             else kernels::cuda::fill(data<float>(), static_cast<float>(value), n));
}

// ---- autograd ------------------------------------------------------------------------------------

bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad; }

Tensor& Tensor::set_requires_grad(bool on) {
  require_defined("set_requires_grad");
  CG_CHECK(!on || dtype() != DType::I32, "tensor set_requires_grad: int32 tensors cannot require gradients");
  CG_CHECK(is_leaf(), "tensor set_requires_grad: only leaf tensors can change requires_grad (this one comes from '"
                          << impl_->grad_fn->op << "'); use detach()");
  impl_->requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const {
  require_defined("grad");
  return impl_->grad ? Tensor(impl_->grad) : Tensor();
}

void Tensor::set_grad(const Tensor& g) {
  require_defined("set_grad");
  if (!g.defined()) {
    impl_->grad.reset();
    return;
  }
  CG_CHECK(g.shape() == shape() && g.dtype() == dtype() && g.device() == device(),
           "tensor set_grad: gradient " << g.describe() << " does not match " << describe());
  impl_->grad = g.impl_ptr();
}

void Tensor::zero_grad() {
  require_defined("zero_grad");
  if (impl_->grad) Tensor(impl_->grad).fill_(0.0);
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  require_defined("grad_fn");
  return impl_->grad_fn;
}
bool Tensor::is_leaf() const { return impl_ && impl_->grad_fn == nullptr; }

Tensor Tensor::detach() const {
  require_defined("detach");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->offset = impl_->offset;
  impl->shape = impl_->shape;
  impl->dtype = impl_->dtype;
  return Tensor(std::move(impl));
}

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  require_defined("backward");
  run_backward(*this, grad, retain_graph);
}

}  // namespace cg
