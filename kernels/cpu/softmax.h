#pragma once
// CPU row-wise softmax and log-softmax over a (rows x cols) row-major view (float and double).
// Each row is shifted by its maximum before exp, so large logits never overflow; the sum of
// exponentials accumulates in double.
#include <cstdint>

namespace cg::kernels::cpu {

// y = softmax(x) per row, or log_softmax(x) when `log`.
template <class T> void softmax_rows(const T* x, T* y, int64_t rows, int64_t cols, bool log);
// Backward from the forward output y (cheaper than from x):
//   softmax:     gx = y * (gy - sum(gy * y))
//   log-softmax: gx = gy - exp(y) * sum(gy)
template <class T> void softmax_rows_backward(const T* gy, const T* y, T* gx, int64_t rows, int64_t cols, bool log);

}  // namespace cg::kernels::cpu
