#include "kernels/cpu/shape.h"

#include <algorithm>
#include <cstring>

#include "kernels/cpu/parallel.h"

namespace cg::kernels::cpu {

template <class T> void copy_block(const T* src, int64_t src_ld, T* dst, int64_t dst_ld, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  // Contiguous on both sides (whole-row blocks): a single memcpy.
  if (src_ld == cols && dst_ld == cols) {
    std::memcpy(dst, src, static_cast<size_t>(rows * cols) * sizeof(T));
    return;
  }
  parallel_for(rows, row_grain(cols), [&](int64_t lo_, int64_t hi_) {
    for (int64_t r = lo_; r < hi_; ++r)
      std::memcpy(dst + r * dst_ld, src + r * src_ld, static_cast<size_t>(cols) * sizeof(T));
  });
}

template <class T> void transpose(const T* x, T* y, int64_t rows, int64_t cols) {
  // Tiles keep both the reads and the writes within a few cache lines.
  constexpr int64_t kTile = 32;
  const int64_t row_tiles = (rows + kTile - 1) / kTile;
  parallel_for(row_tiles, std::max<int64_t>(1, row_grain(cols) / kTile), [&](int64_t lo_, int64_t hi_) {
    for (int64_t r0 = lo_ * kTile; r0 < std::min(rows, hi_ * kTile); r0 += kTile)
      for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
        const int64_t r1 = std::min(rows, r0 + kTile), c1 = std::min(cols, c0 + kTile);
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t c = c0; c < c1; ++c) y[c * rows + r] = x[r * cols + c];
      }
  });
}

#define CG_INSTANTIATE(T)                                                        \
  template void copy_block<T>(const T*, int64_t, T*, int64_t, int64_t, int64_t); \
  template void transpose<T>(const T*, T*, int64_t, int64_t);
CG_INSTANTIATE(float)
CG_INSTANTIATE(double)

}  // namespace cg::kernels::cpu
