#include "kernels/cpu/optim.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace cg::kernels::cpu {

namespace {
// Runs body(segment, i0, i1) over every segment's elements [i0, i1), the whole table shared out
// as one parallel_for over the concatenated length (segment.begin is the running offset).
template <class T, class F> void for_each_run(const OptimSegment<T>* segments, int num_segments, F&& body) {
  if (num_segments <= 0) return;
  const OptimSegment<T>& last = segments[num_segments - 1];
  parallel_for(last.begin + last.length, kElementwiseGrain, [&](int64_t lo, int64_t hi) {
    // The first segment that ends after lo (segments are sorted by begin).
    int s = static_cast<int>(
        std::upper_bound(segments, segments + num_segments, lo,
                         [](int64_t v, const OptimSegment<T>& seg) { return v < seg.begin + seg.length; }) -
        segments);
    for (; s < num_segments && segments[s].begin < hi; ++s) {
      const OptimSegment<T>& seg = segments[s];
      const int64_t i0 = std::max(lo, seg.begin) - seg.begin, i1 = std::min(hi, seg.begin + seg.length) - seg.begin;
      body(seg, i0, i1);
    }
  });
}
}  // namespace

// Both steps are elementwise, so how the table is split across threads cannot change any bit.
template <class T> void sgd_step(const OptimSegment<T>* segments, int num_segments, T* buf, const SgdParams& p) {
  const T lr = static_cast<T>(p.lr), mu = static_cast<T>(p.momentum), wd = static_cast<T>(p.weight_decay);
  const bool use_momentum = p.momentum != 0, nesterov = p.nesterov;
  for_each_run(segments, num_segments, [&](const OptimSegment<T>& seg, int64_t i0, int64_t i1) {
    T* param = seg.param;
    const T* grad = seg.grad;
    T* b = buf ? buf + seg.state : nullptr;
    for (int64_t i = i0; i < i1; ++i) {
      T g = grad[i];
      if (wd != T(0)) g += wd * param[i];
      if (use_momentum) {
        b[i] = mu * b[i] + g;
        g = nesterov ? g + mu * b[i] : b[i];
      }
      param[i] -= lr * g;
    }
  });
}

namespace {
// One pass over a run: reads p, g, m, v once and writes p, m, v once. The flags are template
// arguments so the loop has no branches and vectorises.
template <class T, bool kDecoupled, bool kDecay>
void adam_run(T* param, const T* grad, T* ms, T* vs, int64_t i0, int64_t i1, T beta1, T beta2, T eps, T wd, T step_size,
              T bias2_sqrt, T decay) {
  const T one_minus_b1 = T(1) - beta1, one_minus_b2 = T(1) - beta2;
#pragma omp simd
  for (int64_t i = i0; i < i1; ++i) {
    T g = grad[i];
    T w = param[i];
    if (kDecoupled) w *= decay;
    else if (kDecay) g += wd * w;
    const T mi = beta1 * ms[i] + one_minus_b1 * g;
    const T vi = beta2 * vs[i] + one_minus_b2 * g * g;
    ms[i] = mi;
    vs[i] = vi;
    param[i] = w - step_size * mi / (std::sqrt(vi) / bias2_sqrt + eps);
  }
}
}  // namespace

template <class T> void adam_step(const OptimSegment<T>* segments, int num_segments, T* m, T* v, const AdamParams& p) {
  const T beta1 = static_cast<T>(p.beta1), beta2 = static_cast<T>(p.beta2), eps = static_cast<T>(p.eps);
  const T wd = static_cast<T>(p.weight_decay), step_size = static_cast<T>(p.step_size);
  const T bias2_sqrt = static_cast<T>(p.bias2_sqrt);
  const T decay = static_cast<T>(1.0 - p.lr * p.weight_decay);  // AdamW's decoupled shrink
  const bool decoupled = p.decoupled, l2 = !p.decoupled && wd != T(0);
  for_each_run(segments, num_segments, [&](const OptimSegment<T>& seg, int64_t i0, int64_t i1) {
    T* ms = m + seg.state;
    T* vs = v + seg.state;
    if (decoupled)
      adam_run<T, true, false>(seg.param, seg.grad, ms, vs, i0, i1, beta1, beta2, eps, wd, step_size, bias2_sqrt,
                               decay);
    else if (l2)
      adam_run<T, false, true>(seg.param, seg.grad, ms, vs, i0, i1, beta1, beta2, eps, wd, step_size, bias2_sqrt,
                               decay);
    else
      adam_run<T, false, false>(seg.param, seg.grad, ms, vs, i0, i1, beta1, beta2, eps, wd, step_size, bias2_sqrt,
                                decay);
  });
}

template <class T> double sum_squares(const T* x, int64_t n) {
  constexpr int64_t kChunk = 1 << 16;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(chunks), 0.0);
  parallel_for(chunks, 1, [&](int64_t lo, int64_t hi) {  // fixed chunks: the same sum for any thread count
    for (int64_t c = lo; c < hi; ++c) {
      const int64_t end = std::min(n, (c + 1) * kChunk);
      double acc = 0;
      for (int64_t i = c * kChunk; i < end; ++i) acc += static_cast<double>(x[i]) * static_cast<double>(x[i]);
      partial[static_cast<size_t>(c)] = acc;
    }
  });
  double total = 0;
  for (double v : partial) total += v;
  return total;
}

#define CG_INSTANTIATE(T)                                                             \
  template void sgd_step<T>(const OptimSegment<T>*, int, T*, const SgdParams&);       \
  template void adam_step<T>(const OptimSegment<T>*, int, T*, T*, const AdamParams&); \
  template double sum_squares<T>(const T*, int64_t);
CG_INSTANTIATE(float)
CG_INSTANTIATE(double)

}  // namespace cg::kernels::cpu
