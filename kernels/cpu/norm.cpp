#include "kernels/cpu/norm.h"

#include <cmath>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/norm_math.h"

// Every kernel here has a CUDA twin in kernels/cuda/norm.cu that performs the same steps (same
// double sums, same roundings to T, same formulas from norm_math.h), so parity holds to ~1e-6.
namespace cg::kernels::cpu {

template <class T>
void layer_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t rows, int64_t cols,
                        double eps) {
  parallel_for(rows, row_grain(cols), [&](int64_t lo_, int64_t hi_) {
    for (int64_t r = lo_; r < hi_; ++r) {
      const T* xr = x + r * cols;
      double s = 0;
      for (int64_t c = 0; c < cols; ++c) s += xr[c];
      const double m = s / static_cast<double>(cols);
      // Second pass over deviations: E[x^2] - E[x]^2 cancels badly when |mean| >> std.
      double ss = 0;
      for (int64_t c = 0; c < cols; ++c) {
        const double d = static_cast<double>(xr[c]) - m;
        ss += d * d;
      }
      const T mean_t = static_cast<T>(m);
      const T rstd_t = static_cast<T>(norm_inv_std(ss / static_cast<double>(cols), eps));
      mean[r] = mean_t;
      rstd[r] = rstd_t;
      for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = norm_affine<T>(xr[c], mean_t, rstd_t, gamma, beta, c);
    }
  });
}

template <class T>
void layer_norm_backward(const T* gy, const T* x, const T* mean, const T* rstd, const T* gamma, T* gx, T* dgamma,
                         T* dbeta, int64_t rows, int64_t cols) {
  if (gx) {
    parallel_for(rows, row_grain(cols), [&](int64_t lo_, int64_t hi_) {
      for (int64_t r = lo_; r < hi_; ++r) {
        const T* gr = gy + r * cols;
        const T* xr = x + r * cols;
        double sg = 0, sgx = 0;
        for (int64_t c = 0; c < cols; ++c) {
          const T g = gamma ? gr[c] * gamma[c] : gr[c];
          const T xhat = (xr[c] - mean[r]) * rstd[r];
          sg += g;
          sgx += g * xhat;
        }
        const T mean_g = static_cast<T>(sg / static_cast<double>(cols));
        const T mean_gx = static_cast<T>(sgx / static_cast<double>(cols));
        for (int64_t c = 0; c < cols; ++c) {
          const T g = gamma ? gr[c] * gamma[c] : gr[c];
          const T xhat = (xr[c] - mean[r]) * rstd[r];
          gx[r * cols + c] = norm_input_grad<T>(rstd[r], g, xhat, mean_g, mean_gx);
        }
      }
    });
  }
  if (dgamma || dbeta) {
    // Rows in order with one double accumulator per column (cache friendly).
    std::vector<double> acc_g(cols, 0.0), acc_b(cols, 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const T g = gy[r * cols + c];
        acc_b[c] += g;
        acc_g[c] += g * ((x[r * cols + c] - mean[r]) * rstd[r]);
      }
    for (int64_t c = 0; c < cols; ++c) {
      if (dgamma) dgamma[c] = static_cast<T>(acc_g[c]);
      if (dbeta) dbeta[c] = static_cast<T>(acc_b[c]);
    }
  }
}

template <class T> void batch_norm_stats(const T* x, T* mean, T* var, int64_t n, int64_t c) {
  std::vector<double> m(c, 0.0), ss(c, 0.0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < c; ++j) m[j] += x[r * c + j];
  for (int64_t j = 0; j < c; ++j) m[j] /= static_cast<double>(n);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < c; ++j) {
      const double d = static_cast<double>(x[r * c + j]) - m[j];
      ss[j] += d * d;
    }
  for (int64_t j = 0; j < c; ++j) {
    mean[j] = static_cast<T>(m[j]);
    var[j] = static_cast<T>(ss[j] / static_cast<double>(n));
  }
}

template <class T> void batch_norm_inv_std(const T* var, T* rstd, int64_t c, double eps) {
  for (int64_t j = 0; j < c; ++j) rstd[j] = static_cast<T>(norm_inv_std(var[j], eps));
}

template <class T>
void batch_norm_update_running(T* running_mean, T* running_var, const T* mean, const T* var, int64_t n, int64_t c,
                               double momentum) {
  for (int64_t j = 0; j < c; ++j) {
    running_mean[j] = static_cast<T>(running_update(running_mean[j], mean[j], momentum));
    running_var[j] = static_cast<T>(running_update(running_var[j], unbiased_from_biased(var[j], n), momentum));
  }
}

template <class T>
void batch_norm_apply(const T* x, const T* mean, const T* rstd, const T* gamma, const T* beta, T* y, int64_t n,
                      int64_t c) {
  parallel_for(n, row_grain(c), [&](int64_t lo_, int64_t hi_) {
    for (int64_t r = lo_; r < hi_; ++r)
      for (int64_t j = 0; j < c; ++j) y[r * c + j] = norm_affine<T>(x[r * c + j], mean[j], rstd[j], gamma, beta, j);
  });
}

template <class T>
void batch_norm_backward(const T* gy, const T* x, const T* mean, const T* rstd, const T* gamma, T* gx, T* sum_gy,
                         T* sum_gy_xhat, int64_t n, int64_t c, bool training) {
  std::vector<double> a(c, 0.0), b(c, 0.0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < c; ++j) {
      const T g = gy[r * c + j];
      a[j] += g;
      b[j] += g * ((x[r * c + j] - mean[j]) * rstd[j]);
    }
  for (int64_t j = 0; j < c; ++j) {
    sum_gy[j] = static_cast<T>(a[j]);
    sum_gy_xhat[j] = static_cast<T>(b[j]);
  }
  if (!gx) return;
  parallel_for(n, row_grain(c), [&](int64_t lo_, int64_t hi_) {
    for (int64_t r = lo_; r < hi_; ++r)
      for (int64_t j = 0; j < c; ++j) {
        const T scale = gamma ? gamma[j] * rstd[j] : rstd[j];
        const T g = gy[r * c + j];
        if (training) {
          const T xhat = (x[r * c + j] - mean[j]) * rstd[j];
          const T mean_g = static_cast<T>(static_cast<double>(sum_gy[j]) / static_cast<double>(n));
          const T mean_gx = static_cast<T>(static_cast<double>(sum_gy_xhat[j]) / static_cast<double>(n));
          gx[r * c + j] = norm_input_grad<T>(scale, g, xhat, mean_g, mean_gx);
        } else {
          gx[r * c + j] = scale * g;
        }
      }
  });
}

template <class T> void l2_normalize_rows(const T* x, T* y, T* norm, int64_t rows, int64_t cols, double eps) {
  parallel_for(rows, row_grain(cols), [&](int64_t lo_, int64_t hi_) {
    for (int64_t r = lo_; r < hi_; ++r) {
      const T* xr = x + r * cols;
      double ss = 0;
      for (int64_t c = 0; c < cols; ++c) ss += static_cast<double>(xr[c]) * xr[c];
      const T nrm = static_cast<T>(std::sqrt(ss));
      norm[r] = nrm;
      const T inv = static_cast<T>(l2_inv_divisor(nrm, eps));
      for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = xr[c] * inv;
    }
  });
}

template <class T>
void l2_normalize_rows_backward(const T* gy, const T* y, const T* norm, T* gx, int64_t rows, int64_t cols, double eps) {
  parallel_for(rows, row_grain(cols), [&](int64_t lo_, int64_t hi_) {
    for (int64_t r = lo_; r < hi_; ++r) {
      const T* gr = gy + r * cols;
      const T* yr = y + r * cols;
      T* out = gx + r * cols;
      const T inv = static_cast<T>(l2_inv_divisor(norm[r], eps));
      if (l2_is_clamped(norm[r], eps)) {
        // The divisor is the constant eps here: y is linear in x.
        for (int64_t c = 0; c < cols; ++c) out[c] = gr[c] * inv;
        continue;
      }
      double s = 0;
      for (int64_t c = 0; c < cols; ++c) s += gr[c] * yr[c];
      const T dot = static_cast<T>(s);
      for (int64_t c = 0; c < cols; ++c) out[c] = (gr[c] - yr[c] * dot) * inv;
    }
  });
}

#define CG_INSTANTIATE(T)                                                                                              \
  template void layer_norm_forward<T>(const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t, double);             \
  template void layer_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, int64_t,          \
                                       int64_t);                                                                       \
  template void batch_norm_stats<T>(const T*, T*, T*, int64_t, int64_t);                                               \
  template void batch_norm_inv_std<T>(const T*, T*, int64_t, double);                                                  \
  template void batch_norm_update_running<T>(T*, T*, const T*, const T*, int64_t, int64_t, double);                    \
  template void batch_norm_apply<T>(const T*, const T*, const T*, const T*, const T*, T*, int64_t, int64_t);           \
  template void batch_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t, \
                                       bool);                                                                          \
  template void l2_normalize_rows<T>(const T*, T*, T*, int64_t, int64_t, double);                                      \
  template void l2_normalize_rows_backward<T>(const T*, const T*, const T*, T*, int64_t, int64_t, double);
CG_INSTANTIATE(float)
CG_INSTANTIATE(double)

}  // namespace cg::kernels::cpu
