#pragma once
// Test helpers shared by the op and layer suites:
//  - CHECK_GRADIENTS: finite-difference check of a function in double precision;
//  - check_cuda_parity: the same function on CPU and CUDA (float32, TF32 off), comparing the
//    forward output and every input gradient; prints why it is skipped when there is no GPU.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/error.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "autograd/rng.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/runtime.h"
#endif

namespace cg::test {

inline constexpr double kGradTolerance = 1e-6;
inline constexpr double kParityTolerance = 1e-5;

// Random float64 CPU tensor requiring grad; `shift` moves values away from kinks (e.g. 0 for relu).
inline Tensor random_input(const Shape& shape, uint64_t seed, double scale = 1.0, double shift = 0.0,
                           bool requires_grad = true) {
  Generator gen(seed);
  Tensor t = gen.normal(shape, Device::CPU, DType::F64);
  double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = p[i] * scale + (p[i] >= 0 ? shift : -shift);
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

inline Tensor positive_input(const Shape& shape, uint64_t seed, double lo = 0.5, double hi = 2.0) {
  Generator gen(seed);
  Tensor t = gen.uniform(shape, Device::CPU, DType::F64);
  double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = lo + (hi - lo) * p[i];
  t.set_requires_grad(true);
  return t;
}

#define CHECK_GRADIENTS(fn, inputs)                                          \
  do {                                                                       \
    const ::cg::GradcheckResult cg_r_ = ::cg::gradcheck((fn), (inputs));     \
    INFO("worst entry: " << cg_r_.worst);                                    \
    CHECK(cg_r_.max_error < ::cg::test::kGradTolerance);                     \
  } while (0)

// Whether CUDA tests can run; when they cannot, prints the reason once per check name.
inline bool cuda_ready(const std::string& what) {
  if (cuda_available()) {
#ifdef CELLGRAD_CUDA
    kernels::cuda::set_tf32(false);
#endif
    return true;
  }
  static std::set<std::string> reported;
  if (reported.insert(what).second) {
#ifdef CELLGRAD_CUDA
    MESSAGE("skipped CUDA check '" << what << "': no CUDA device found");
#else
    MESSAGE("skipped CUDA check '" << what << "': built without CUDA (nvcc absent)");
#endif
  }
  return false;
}

inline double max_rel_diff(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::abs(a[i] - b[i]) / std::max(1.0, std::max(std::abs(a[i]), std::abs(b[i])));
    m = std::max(m, std::isnan(d) ? INFINITY : d);
  }
  return m;
}

// Runs f on float32 copies of `inputs` (float64 or float32, CPU) on both devices.
inline void check_cuda_parity(const std::string& what, const TensorFn& f, const std::vector<Tensor>& inputs,
                              double tol = kParityTolerance) {
  if (!cuda_ready(what)) return;
  auto run = [&](Device dev, std::vector<std::vector<double>>& grads) {
    std::vector<Tensor> xs;
    for (const Tensor& t : inputs) {
      if (!t.defined()) { xs.push_back(t); continue; }
      Tensor c = (t.dtype() == DType::F64 ? t.detach().to(DType::F32) : t.detach()).to(dev);
      if (c.dtype() != DType::I32 && t.requires_grad()) {
        c = c.clone();
        c.set_requires_grad(true);
      }
      xs.push_back(c);
    }
    Tensor out = f(xs);
    Generator gen(5, 77);
    Tensor w = gen.normal(out.shape(), dev);
    if (out.requires_grad()) sum(mul(out, w)).backward();
    for (const Tensor& x : xs)
      grads.push_back(x.defined() && x.requires_grad() && x.grad().defined() ? x.grad().to_vector<double>() : std::vector<double>{});
    return out.to_vector<double>();
  };
  std::vector<std::vector<double>> gc, gg;
  const auto cpu = run(Device::CPU, gc);
  const auto gpu = run(Device::CUDA, gg);
  INFO("CUDA parity: " << what);
  CHECK(max_rel_diff(cpu, gpu) < tol);
  for (size_t i = 0; i < gc.size(); ++i) {
    INFO("gradient of input " << i);
    CHECK(max_rel_diff(gc[i], gg[i]) < tol);
  }
}

}  // namespace cg::test
