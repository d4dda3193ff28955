#include "kernels/cpu/elementwise.h"

#include <cmath>

#include "kernels/cpu/parallel.h"
#include "kernels/unary_math.h"

namespace cg::kernels::cpu {
using std::exp;
using std::log;
using std::log1p;
using std::pow;
using std::sqrt;
using std::tanh;

template <class T> void unary_forward(UnaryOp op, UnaryParams p, const T* x, T* y, int64_t n) {
  const T a = static_cast<T>(p.a), b = static_cast<T>(p.b);
  parallel_for(n, kElementwiseGrain, [&](int64_t lo_, int64_t hi_) {
    for (int64_t i = lo_; i < hi_; ++i) y[i] = unary_value<T>(op, x[i], a, b);
  });
}

template <class T>
void unary_backward(UnaryOp op, UnaryParams p, const T* x, const T* y, const T* gy, T* gx, int64_t n) {
  const T a = static_cast<T>(p.a), b = static_cast<T>(p.b);
  parallel_for(n, kElementwiseGrain, [&](int64_t lo_, int64_t hi_) {
    for (int64_t i = lo_; i < hi_; ++i) gx[i] = gy[i] * unary_derivative<T>(op, x[i], y[i], a, b);
  });
}

template <class T>
void binary_forward(BinaryOp op, const T* a, Bcast am, const T* b, Bcast bm, T* out, int64_t rows, int64_t cols) {
  parallel_for(rows, row_grain(cols), [&](int64_t lo_, int64_t hi_) {
    for (int64_t r = lo_; r < hi_; ++r)
      for (int64_t c = 0; c < cols; ++c)
        out[r * cols + c] = binary_value<T>(op, a[bcast_index(am, r, c, cols)], b[bcast_index(bm, r, c, cols)]);
  });
}

template <class T> void broadcast_copy(const T* x, Bcast mode, T* out, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[r * cols + c] = x[bcast_index(mode, r, c, cols)];
}

template <class T> void fill(T* x, T value, int64_t n) {
  parallel_for(n, kElementwiseGrain, [&](int64_t lo_, int64_t hi_) {
    for (int64_t i = lo_; i < hi_; ++i) x[i] = value;
  });
}
template <class T> void axpy(T alpha, const T* x, T* y, int64_t n) {
  parallel_for(n, kElementwiseGrain, [&](int64_t lo_, int64_t hi_) {
    for (int64_t i = lo_; i < hi_; ++i) y[i] += alpha * x[i];
  });
}
template <class T> void scale(T* x, T alpha, int64_t n) {
  parallel_for(n, kElementwiseGrain, [&](int64_t lo_, int64_t hi_) {
    for (int64_t i = lo_; i < hi_; ++i) x[i] *= alpha;
  });
}
template <class From, class To> void convert(const From* x, To* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<To>(x[i]);
}

#define CG_INSTANTIATE(T)                                                                            \
  template void unary_forward<T>(UnaryOp, UnaryParams, const T*, T*, int64_t);                       \
  template void unary_backward<T>(UnaryOp, UnaryParams, const T*, const T*, const T*, T*, int64_t);  \
  template void binary_forward<T>(BinaryOp, const T*, Bcast, const T*, Bcast, T*, int64_t, int64_t); \
  template void broadcast_copy<T>(const T*, Bcast, T*, int64_t, int64_t);                            \
  template void fill<T>(T*, T, int64_t);                                                             \
  template void axpy<T>(T, const T*, T*, int64_t);                                                   \
  template void scale<T>(T*, T, int64_t);
CG_INSTANTIATE(float)
CG_INSTANTIATE(double)
template void fill<int32_t>(int32_t*, int32_t, int64_t);
template void convert<float, double>(const float*, double*, int64_t);
template void convert<double, float>(const double*, float*, int64_t);
template void convert<int32_t, float>(const int32_t*, float*, int64_t);
template void convert<int32_t, double>(const int32_t*, double*, int64_t);
template void convert<float, int32_t>(const float*, int32_t*, int64_t);
template void convert<double, int32_t>(const double*, int32_t*, int64_t);

}  // namespace cg::kernels::cpu
