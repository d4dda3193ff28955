#include "autograd/rng.h"

#include "autograd/dispatch.h"
#include "kernels/cpu/random.h"
#include "kernels/philox.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/random.h"
#endif

namespace cg {

uint64_t Generator::reserve(int64_t n) {
  const uint64_t first = offset_;
  offset_ += static_cast<uint64_t>((n + 3) / 4);
  return first;
}

Tensor Generator::uniform(const Shape& shape, Device device, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype, device);
  const uint64_t off = reserve(t.numel());
  if (device == Device::CPU)
    CG_DISPATCH_FLOAT(dtype, "uniform", T,
                      kernels::cpu::philox_uniform<T>(seed_, stream_, off, t.data<T>(), t.numel()));
  else CG_IF_CUDA(kernels::cuda::philox_uniform(seed_, stream_, off, t.data<float>(), t.numel()));
  return t;
}

Tensor Generator::normal(const Shape& shape, Device device, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype, device);
  const uint64_t off = reserve(t.numel());
  if (device == Device::CPU)
    CG_DISPATCH_FLOAT(dtype, "normal", T, kernels::cpu::philox_normal<T>(seed_, stream_, off, t.data<T>(), t.numel()));
  else CG_IF_CUDA(kernels::cuda::philox_normal(seed_, stream_, off, t.data<float>(), t.numel()));
  return t;
}

Tensor Generator::bernoulli(const Shape& shape, double p, Device device, DType dtype) {
  CG_CHECK(p >= 0.0 && p <= 1.0, "bernoulli: probability must be in [0, 1], found " << p);
  Tensor t = Tensor::empty(shape, dtype, device);
  const uint64_t off = reserve(t.numel());
  if (device == Device::CPU)
    CG_DISPATCH_FLOAT(dtype, "bernoulli", T,
                      kernels::cpu::philox_bernoulli<T>(seed_, stream_, off, p, t.data<T>(), t.numel()));
  else CG_IF_CUDA(kernels::cuda::philox_bernoulli(seed_, stream_, off, p, t.data<float>(), t.numel()));
  return t;
}

uint32_t Generator::next_below(uint32_t n) {
  CG_CHECK(n > 0, "next_below: n must be positive");
  // Rejection sampling on 32-bit words keeps the result exactly uniform.
  const uint64_t limit = (uint64_t(1) << 32) - ((uint64_t(1) << 32) % n);
  for (;;) {
    const uint64_t off = reserve(1);
    const uint32_t w = kernels::philox_word(seed_, stream_, off, 0);
    if (w < limit) return w % n;
  }
}

}  // namespace cg
