#include "kernels/cpu/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/parallel.h"

namespace cg::kernels::cpu {

// The CUDA kernels (kernels/cuda/softmax.cu) follow these exact steps: exp in the element type,
// sums in double, then one rounded scale (1/sum) or shift (log sum) per row.
template <class T> void softmax_rows(const T* x, T* y, int64_t rows, int64_t cols, bool log) {
  parallel_for(rows, row_grain(cols), [&](int64_t lo_, int64_t hi_) {
    for (int64_t r = lo_; r < hi_; ++r) {
      const T* xr = x + r * cols;
      T* yr = y + r * cols;
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t c = 0; c < cols; ++c) m = std::max(m, xr[c]);
      double s = 0;
      for (int64_t c = 0; c < cols; ++c) {
        const T e = std::exp(xr[c] - m);
        if (!log) yr[c] = e;
        s += e;
      }
      if (log) {
        const T log_sum = static_cast<T>(std::log(s));
        for (int64_t c = 0; c < cols; ++c) yr[c] = xr[c] - m - log_sum;
      } else {
        const T inv = static_cast<T>(1.0 / s);
        for (int64_t c = 0; c < cols; ++c) yr[c] *= inv;
      }
    }
  });
}

template <class T> void softmax_rows_backward(const T* gy, const T* y, T* gx, int64_t rows, int64_t cols, bool log) {
  parallel_for(rows, row_grain(cols), [&](int64_t lo_, int64_t hi_) {
    for (int64_t r = lo_; r < hi_; ++r) {
      const T* gr = gy + r * cols;
      const T* yr = y + r * cols;
      T* out = gx + r * cols;
      double s = 0;
      if (log) {
        for (int64_t c = 0; c < cols; ++c) s += gr[c];
        const T sum_g = static_cast<T>(s);
        for (int64_t c = 0; c < cols; ++c) out[c] = gr[c] - std::exp(yr[c]) * sum_g;
      } else {
        for (int64_t c = 0; c < cols; ++c) s += gr[c] * yr[c];
        const T dot = static_cast<T>(s);
        for (int64_t c = 0; c < cols; ++c) out[c] = yr[c] * (gr[c] - dot);
      }
    }
  });
}

#define CG_INSTANTIATE(T)                                              \
  template void softmax_rows<T>(const T*, T*, int64_t, int64_t, bool); \
  template void softmax_rows_backward<T>(const T*, const T*, T*, int64_t, int64_t, bool);
CG_INSTANTIATE(float)
CG_INSTANTIATE(double)

}  // namespace cg::kernels::cpu
