#include "kernels/cpu/mask.h"

#include "kernels/cpu/parallel.h"
#include "kernels/random_math.h"
#include "kernels/unary_math.h"

namespace cg::kernels::cpu {

template <class T>
void dropout_forward(const T* x, T* y, T* mask, int64_t n, uint64_t seed, uint64_t stream, uint64_t offset, float p,
                     T scale) {
  parallel_for(n, kElementwiseGrain, [&](int64_t lo_, int64_t hi_) {
    for (int64_t i = lo_; i < hi_; ++i) {
      const bool drop = philox_bernoulli_at(seed, stream, offset, i, p) != 0.0f;
      mask[i] = drop ? T(0) : scale;
      y[i] = x[i] * mask[i];
    }
  });
}

template <class T>
void masked_fill(const T* x, const T* mask, Bcast mode, T value, T* out, int64_t rows, int64_t cols) {
  parallel_for(rows, row_grain(cols), [&](int64_t lo_, int64_t hi_) {
    for (int64_t r = lo_; r < hi_; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const int64_t i = r * cols + c;
        out[i] = mask[bcast_index(mode, r, c, cols)] != T(0) ? value : x[i];
      }
  });
}

template <class T> void where_forward(const T* cond, const T* a, const T* b, T* out, int64_t n) {
  parallel_for(n, kElementwiseGrain, [&](int64_t lo_, int64_t hi_) {
    for (int64_t i = lo_; i < hi_; ++i) out[i] = cond[i] != T(0) ? a[i] : b[i];
  });
}

template <class T> void where_backward(const T* cond, const T* g, T* ga, T* gb, int64_t n) {
  parallel_for(n, kElementwiseGrain, [&](int64_t lo_, int64_t hi_) {
    for (int64_t i = lo_; i < hi_; ++i) {
      const bool take_a = cond[i] != T(0);
      ga[i] = take_a ? g[i] : T(0);
      gb[i] = take_a ? T(0) : g[i];
    }
  });
}

#define CG_INSTANTIATE(T)                                                                              \
  template void dropout_forward<T>(const T*, T*, T*, int64_t, uint64_t, uint64_t, uint64_t, float, T); \
  template void masked_fill<T>(const T*, const T*, Bcast, T, T*, int64_t, int64_t);                    \
  template void where_forward<T>(const T*, const T*, const T*, T*, int64_t);                           \
  template void where_backward<T>(const T*, const T*, T*, T*, int64_t);
CG_INSTANTIATE(float)
CG_INSTANTIATE(double)

}  // namespace cg::kernels::cpu
