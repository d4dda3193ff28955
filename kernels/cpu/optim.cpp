#include "kernels/cpu/optim.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace cg::kernels::cpu {

template <class T> void sgd_step(const OptimSegment<T>* segments, int num_segments, T* buf, const SgdParams& p) {
  const T lr = static_cast<T>(p.lr), mu = static_cast<T>(p.momentum), wd = static_cast<T>(p.weight_decay);
  const bool use_momentum = p.momentum != 0, nesterov = p.nesterov;
  for (int s = 0; s < num_segments; ++s) {
    const OptimSegment<T>& seg = segments[s];
    T* param = seg.param;
    const T* grad = seg.grad;
    T* b = buf ? buf + seg.state : nullptr;
    // Elementwise, so splitting across threads cannot change any result.
#pragma omp parallel for if (seg.length > 65536) schedule(static)
    for (int64_t i = 0; i < seg.length; ++i) {
      T g = grad[i];
      if (wd != T(0)) g += wd * param[i];
      if (use_momentum) {
        b[i] = mu * b[i] + g;
        g = nesterov ? g + mu * b[i] : b[i];
      }
      param[i] -= lr * g;
    }
  }
}

template <class T> void adam_step(const OptimSegment<T>* segments, int num_segments, T* m, T* v, const AdamParams& p) {
  const T beta1 = static_cast<T>(p.beta1), beta2 = static_cast<T>(p.beta2), eps = static_cast<T>(p.eps);
  const T wd = static_cast<T>(p.weight_decay), step_size = static_cast<T>(p.step_size);
  const T bias2_sqrt = static_cast<T>(p.bias2_sqrt);
  const T decay = static_cast<T>(1.0 - p.lr * p.weight_decay);  // AdamW's decoupled shrink
  const bool decoupled = p.decoupled;
  for (int s = 0; s < num_segments; ++s) {
    const OptimSegment<T>& seg = segments[s];
    T* param = seg.param;
    const T* grad = seg.grad;
    T* ms = m + seg.state;
    T* vs = v + seg.state;
#pragma omp parallel for if (seg.length > 65536) schedule(static)
    for (int64_t i = 0; i < seg.length; ++i) {
      T g = grad[i];
      T w = param[i];
      if (decoupled) w *= decay;
      else if (wd != T(0)) g += wd * w;
      const T mi = beta1 * ms[i] + (T(1) - beta1) * g;
      const T vi = beta2 * vs[i] + (T(1) - beta2) * g * g;
      ms[i] = mi;
      vs[i] = vi;
      param[i] = w - step_size * mi / (std::sqrt(vi) / bias2_sqrt + eps);
    }
  }
}

template <class T> double sum_squares(const T* x, int64_t n) {
  constexpr int64_t kChunk = 1 << 16;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(chunks), 0.0);
#pragma omp parallel for if (chunks > 1) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t end = std::min(n, (c + 1) * kChunk);
    double acc = 0;
    for (int64_t i = c * kChunk; i < end; ++i) acc += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    partial[static_cast<size_t>(c)] = acc;
  }
  double total = 0;
  for (double v : partial) total += v;
  return total;
}

#define CG_INSTANTIATE(T)                                                                     \
  template void sgd_step<T>(const OptimSegment<T>*, int, T*, const SgdParams&);              \
  template void adam_step<T>(const OptimSegment<T>*, int, T*, T*, const AdamParams&);        \
  template double sum_squares<T>(const T*, int64_t);
CG_INSTANTIATE(float)
CG_INSTANTIATE(double)

}  // namespace cg::kernels::cpu
