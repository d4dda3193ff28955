#include "kernels/cpu/reduce.h"

#include <vector>

#include "kernels/cpu/parallel.h"

namespace cg::kernels::cpu {

template <class T> void reduce_sum(const T* x, T* out, int64_t rows, int64_t cols, ReduceAxis axis, double scale) {
  switch (axis) {
    case ReduceAxis::All: {
      double s = 0;
      for (int64_t i = 0; i < rows * cols; ++i) s += x[i];
      out[0] = static_cast<T>(s * scale);
      break;
    }
    case ReduceAxis::Rows:
      parallel_for(rows, row_grain(cols), [&](int64_t lo_, int64_t hi_) {
        for (int64_t r = lo_; r < hi_; ++r) {
          double s = 0;
          for (int64_t c = 0; c < cols; ++c) s += x[r * cols + c];
          out[r] = static_cast<T>(s * scale);
        }
      });
      break;
    case ReduceAxis::Cols: {
      // Walk rows in order (cache friendly) with one double accumulator per column.
      std::vector<double> acc(cols, 0.0);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) acc[c] += x[r * cols + c];
      for (int64_t c = 0; c < cols; ++c) out[c] = static_cast<T>(acc[c] * scale);
      break;
    }
  }
}

template <class T> void max_rows(const T* x, T* out, int32_t* index, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    int64_t best = 0;
    for (int64_t c = 1; c < cols; ++c)
      if (x[r * cols + c] > x[r * cols + best]) best = c;
    out[r] = x[r * cols + best];
    index[r] = static_cast<int32_t>(best);
  }
}

template <class T> void max_rows_backward(const T* gy, const int32_t* index, T* gx, int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows * cols; ++i) gx[i] = T(0);
  for (int64_t r = 0; r < rows; ++r) gx[r * cols + index[r]] = gy[r];
}

#define CG_INSTANTIATE(T)                                                          \
  template void reduce_sum<T>(const T*, T*, int64_t, int64_t, ReduceAxis, double); \
  template void max_rows<T>(const T*, T*, int32_t*, int64_t, int64_t);             \
  template void max_rows_backward<T>(const T*, const int32_t*, T*, int64_t, int64_t);
CG_INSTANTIATE(float)
CG_INSTANTIATE(double)

}  // namespace cg::kernels::cpu
