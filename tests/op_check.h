#pragma once
// Test helpers shared by the op and layer suites:
//  - CHECK_GRADIENTS: finite-difference check of a function in double precision;
//  - check_cuda_parity: the same function on CPU and CUDA (float32, TF32 off), comparing the
//    forward output and every input gradient; prints why it is skipped when there is no GPU
//    (fails instead with CELLGRAD_REQUIRE_CUDA=1).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <optional>
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

#define CHECK_GRADIENTS(fn, inputs)                                      \
  do {                                                                   \
    const ::cg::GradcheckResult cg_r_ = ::cg::gradcheck((fn), (inputs)); \
    INFO("worst entry: " << cg_r_.worst);                                \
    CHECK(cg_r_.max_error < ::cg::test::kGradTolerance);                 \
  } while (0)

// Whether CUDA checks can run. When they cannot, the check is skipped visibly (a MESSAGE with the
// reason, once per check name) or, with CELLGRAD_REQUIRE_CUDA=1 (a GPU machine, where a skip
// means something is broken), fails. Reads the device state and changes nothing: a check that
// compares float32 GEMMs with the CPU holds an ExactFloat32 guard while it does.
inline bool cuda_ready(const std::string& what) {
  if (cuda_available()) return true;
#ifdef CELLGRAD_CUDA
  const std::string reason = "no CUDA device found";
#else
  const std::string reason = "built without CUDA (nvcc absent)";
#endif
  const char* require = std::getenv("CELLGRAD_REQUIRE_CUDA");
  if (require && std::string(require) == "1") {
    FAIL_CHECK("CUDA check '" << what << "' cannot run: " << reason << " (CELLGRAD_REQUIRE_CUDA=1)");
    return false;
  }
  static std::set<std::string> reported;
  if (reported.insert(what).second) MESSAGE("skipped CUDA check '" << what << "': " << reason);
  return false;
}

// TF32 off for cuBLAS while it lives (exact float32 GEMMs, so CUDA results can be compared with
// the CPU's), the previous math mode restored afterwards; nothing without a GPU.
class ExactFloat32 {
 public:
  ExactFloat32() {
#ifdef CELLGRAD_CUDA
    if (cuda_available()) guard_.emplace();
#endif
  }

 private:
#ifdef CELLGRAD_CUDA
  std::optional<kernels::cuda::ExactFloat32Gemm> guard_;
#endif
};

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
  // grads[i]: input i's gradient; nullopt when it has none.
  auto run = [&](Device dev, std::vector<std::optional<std::vector<double>>>& grads) {
    std::vector<Tensor> xs;
    for (const Tensor& t : inputs) {
      if (!t.defined()) {
        xs.push_back(t);
        continue;
      }
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
    for (const Tensor& x : xs) {
      if (x.defined() && x.requires_grad() && x.grad().defined()) grads.push_back(x.grad().to_vector<double>());
      else grads.push_back(std::nullopt);
    }
    return out.to_vector<double>();
  };
  const ExactFloat32 exact;
  std::vector<std::optional<std::vector<double>>> gc, gg;
  const auto cpu = run(Device::CPU, gc);
  const auto gpu = run(Device::CUDA, gg);
  INFO("CUDA parity: " << what);
  CHECK(max_rel_diff(cpu, gpu) < tol);
  for (size_t i = 0; i < gc.size(); ++i) {
    INFO("gradient of input " << i);
    // An input that requires grad must get one on both devices: two missing gradients are not
    // "equal", they are a broken backward.
    if (inputs[i].defined() && inputs[i].requires_grad() && inputs[i].dtype() != DType::I32) {
      CHECK_MESSAGE(gc[i].has_value(), "no gradient on the CPU");
      CHECK_MESSAGE(gg[i].has_value(), "no gradient on CUDA");
    }
    if (gc[i] && gg[i]) CHECK(max_rel_diff(*gc[i], *gg[i]) < tol);
  }
}

}  // namespace cg::test
