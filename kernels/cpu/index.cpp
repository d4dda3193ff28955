#include "kernels/cpu/index.h"

#include <cstring>

#include "kernels/cpu/parallel.h"

namespace cg::kernels::cpu {

template <class T> void gather_rows(const T* x, const int32_t* index, T* out, int64_t n_index, int64_t cols) {
  parallel_for(n_index, row_grain(cols), [&](int64_t lo_, int64_t hi_) {
    for (int64_t i = lo_; i < hi_; ++i)
      std::memcpy(out + i * cols, x + static_cast<int64_t>(index[i]) * cols, static_cast<size_t>(cols) * sizeof(T));
  });
}

template <class T> void scatter_add_rows(const T* g, const int32_t* index, T* gx, int64_t n_index, int64_t cols) {
  // Serial over i on purpose: repeated indices write the same row, and a fixed order keeps the
  // CPU result bit-reproducible.
  for (int64_t i = 0; i < n_index; ++i) {
    T* dst = gx + static_cast<int64_t>(index[i]) * cols;
    const T* src = g + i * cols;
    for (int64_t c = 0; c < cols; ++c) dst[c] += src[c];
  }
}

int64_t first_out_of_range(const int32_t* index, int64_t n, int64_t limit) {
  for (int64_t i = 0; i < n; ++i)
    if (index[i] < 0 || index[i] >= limit) return i;
  return -1;
}

#define CG_INSTANTIATE(T)                                                       \
  template void gather_rows<T>(const T*, const int32_t*, T*, int64_t, int64_t); \
  template void scatter_add_rows<T>(const T*, const int32_t*, T*, int64_t, int64_t);
CG_INSTANTIATE(float)
CG_INSTANTIATE(double)

}  // namespace cg::kernels::cpu
