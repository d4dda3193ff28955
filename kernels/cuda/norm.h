#pragma once
// CUDA normalisation kernels (float32): layer norm, batch norm, l2 normalisation of rows. Same
// semantics, arguments and steps as kernels/cpu/norm.h; optional pointers may be null.
#include <cstdint>

namespace cg::kernels::cuda {

void layer_norm_forward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                        int64_t rows, int64_t cols, double eps);
void layer_norm_backward(const float* gy, const float* x, const float* mean, const float* rstd, const float* gamma,
                         float* gx, float* dgamma, float* dbeta, int64_t rows, int64_t cols);

void batch_norm_stats(const float* x, float* mean, float* var, int64_t n, int64_t c);
void batch_norm_inv_std(const float* var, float* rstd, int64_t c, double eps);
void batch_norm_update_running(float* running_mean, float* running_var, const float* mean, const float* var, int64_t n,
                               int64_t c, double momentum);
void batch_norm_apply(const float* x, const float* mean, const float* rstd, const float* gamma, const float* beta,
                      float* y, int64_t n, int64_t c);
void batch_norm_backward(const float* gy, const float* x, const float* mean, const float* rstd, const float* gamma,
                         float* gx, float* sum_gy, float* sum_gy_xhat, int64_t n, int64_t c, bool training);

void l2_normalize_rows(const float* x, float* y, float* norm, int64_t rows, int64_t cols, double eps);
void l2_normalize_rows_backward(const float* gy, const float* y, const float* norm, float* gx, int64_t rows,
                                int64_t cols, double eps);

}  // namespace cg::kernels::cuda
