#pragma once
// CPU normalisation kernels (float and double): layer norm over each row, batch norm over each
// column of an N x C matrix, l2 normalisation of each row. Statistics are computed in double
// (two passes: mean, then mean squared deviation) and stored in the element type; the backward
// kernels recompute xhat from x and those stored statistics. Optional pointers (gamma, beta and
// the gradients of inputs that need none) may be null.
#include <cstdint>

namespace cg::kernels::cpu {

// ---- layer norm: rows x cols, statistics per row ------------------------------------------------
// y = (x - mean) * rstd * gamma + beta; writes mean[rows] and rstd[rows] = 1/sqrt(var + eps).
template <class T>
void layer_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t rows, int64_t cols,
                        double eps);
// gx (row-wise closed form), dgamma = sum_rows(gy * xhat), dbeta = sum_rows(gy); any may be null.
template <class T>
void layer_norm_backward(const T* gy, const T* x, const T* mean, const T* rstd, const T* gamma, T* gx, T* dgamma,
                         T* dbeta, int64_t rows, int64_t cols);

// ---- batch norm: n x c, statistics per column -----------------------------------------------------
// Mean and biased variance of each column.
template <class T> void batch_norm_stats(const T* x, T* mean, T* var, int64_t n, int64_t c);
// rstd[j] = 1 / sqrt(var[j] + eps).
template <class T> void batch_norm_inv_std(const T* var, T* rstd, int64_t c, double eps);
// running = (1 - momentum) * running + momentum * batch, with the unbiased variance (n >= 2).
template <class T>
void batch_norm_update_running(T* running_mean, T* running_var, const T* mean, const T* var, int64_t n, int64_t c,
                               double momentum);
// y = (x - mean) * rstd * gamma + beta, per column.
template <class T>
void batch_norm_apply(const T* x, const T* mean, const T* rstd, const T* gamma, const T* beta, T* y, int64_t n,
                      int64_t c);
// Column sums sum_gy = sum(gy) (= dbeta) and sum_gy_xhat = sum(gy * xhat) (= dgamma), then gx
// when non-null: with batch statistics (training) the closed form through mean and variance,
// with fixed running statistics (eval) simply gy * gamma * rstd.
template <class T>
void batch_norm_backward(const T* gy, const T* x, const T* mean, const T* rstd, const T* gamma, T* gx, T* sum_gy,
                         T* sum_gy_xhat, int64_t n, int64_t c, bool training);

// ---- l2 normalisation of rows ---------------------------------------------------------------------
// y = x / max(||x_row||, eps); writes norm[rows] = ||x_row||.
template <class T> void l2_normalize_rows(const T* x, T* y, T* norm, int64_t rows, int64_t cols, double eps);
// Unclamped rows: gx = (gy - y * sum(gy * y)) / norm; clamped rows (norm < eps): gx = gy / eps.
template <class T>
void l2_normalize_rows_backward(const T* gy, const T* y, const T* norm, T* gx, int64_t rows, int64_t cols, double eps);

}  // namespace cg::kernels::cpu
