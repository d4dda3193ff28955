#include "kernels/cpu/csr_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace cg::kernels::cpu {

namespace {
// Iterations per chunk when each iteration does about `work` multiply-adds.
int64_t work_grain(int64_t work) { return std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, work)); }

template <class T> inline T score(const T* x, const T* qk, const T* bias, int64_t n, int64_t g, int64_t e, int64_t h,
                                  const CsrAttentionSizes& s) {
  const T v = x[n * s.genes + g] * qk[e * s.heads + h];
  return bias ? v + bias[e] : v;
}
}  // namespace

template <class T>
void csr_attention_forward(const T* x, const T* qk, const T* values, const T* bias, const CsrAttentionIndex& idx,
                           const CsrAttentionSizes& s, T* out, T* lse, T* attention) {
  const int64_t N = s.cells, P = s.pathways, H = s.heads, dh = s.head_dim, d = H * dh;
  const int64_t avg_row = P > 0 ? std::max<int64_t>(1, s.nnz / P) : 1;
  parallel_for(N * P, work_grain(avg_row * d), [&](int64_t lo, int64_t hi) {
    std::vector<double> acc(static_cast<size_t>(dh));
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t n = r / P, p = r % P;
      const int64_t b = idx.row_ptr[p], end = idx.row_ptr[p + 1];
      T* o = out + r * d;
      for (int64_t h = 0; h < H; ++h) {
        if (b == end) {  // empty pathway: nothing to attend to
          std::fill(o + h * dh, o + (h + 1) * dh, T(0));
          lse[r * H + h] = T(0);
          continue;
        }
        T m = -std::numeric_limits<T>::infinity();
        for (int64_t e = b; e < end; ++e) m = std::max(m, score(x, qk, bias, n, idx.col_index[e], e, h, s));
        double l = 0;
        for (int64_t e = b; e < end; ++e) l += std::exp(score(x, qk, bias, n, idx.col_index[e], e, h, s) - m);
        const T log_z = static_cast<T>(m + std::log(l));
        lse[r * H + h] = log_z;
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t e = b; e < end; ++e) {
          const int64_t g = idx.col_index[e];
          const T a = std::exp(score(x, qk, bias, n, g, e, h, s) - log_z);
          if (attention) attention[(n * H + h) * s.nnz + e] = a;
          const T w = a * x[n * s.genes + g];
          const T* vr = values + g * d + h * dh;
          for (int64_t j = 0; j < dh; ++j) acc[j] += static_cast<double>(w * vr[j]);
        }
        for (int64_t j = 0; j < dh; ++j) o[h * dh + j] = static_cast<T>(acc[j]);
      }
    }
  });
}

template <class T>
void csr_attention_backward(const T* grad_out, const T* out, const T* lse, const T* x, const T* qk, const T* values,
                            const T* bias, const CsrAttentionIndex& idx, const CsrAttentionSizes& s, T* dots,
                            T* per_entry, T* grad_x, T* grad_qk, T* grad_bias, T* grad_values) {
  const int64_t N = s.cells, G = s.genes, P = s.pathways, H = s.heads, dh = s.head_dim, d = H * dh, nnz = s.nnz;
  const int64_t avg_row = P > 0 ? std::max<int64_t>(1, nnz / P) : 1;
  auto dot_head = [&](const T* a, const T* b, int64_t h) {
    double acc = 0;
    for (int64_t j = h * dh; j < (h + 1) * dh; ++j) acc += static_cast<double>(a[j]) * static_cast<double>(b[j]);
    return static_cast<T>(acc);
  };
  // 1: D and t, one (cell, pathway) per iteration.
  parallel_for(N * P, work_grain(avg_row * d), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t n = r / P, p = r % P;
      const T* go = grad_out + r * d;
      for (int64_t h = 0; h < H; ++h) dots[r * H + h] = dot_head(go, out + r * d, h);
      for (int64_t e = idx.row_ptr[p]; e < idx.row_ptr[p + 1]; ++e) {
        const int64_t g = idx.col_index[e];
        const T xv = x[n * G + g];
        double t = 0;
        for (int64_t h = 0; h < H; ++h) {
          const T a = std::exp(score(x, qk, bias, n, g, e, h, s) - lse[r * H + h]);
          const T v = dot_head(go, values + g * d, h);
          const T ds = a * (xv * v - dots[r * H + h]);
          t += static_cast<double>(a * v + ds * qk[e * H + h]);
        }
        per_entry[n * nnz + e] = static_cast<T>(t);
      }
    }
  });
  // 2: dx, one (cell, gene) per iteration.
  if (grad_x)
    parallel_for(N * G, kElementwiseGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t n = r / G, g = r % G;
        double acc = 0;
        for (int64_t k = idx.col_ptr[g]; k < idx.col_ptr[g + 1]; ++k) acc += per_entry[n * nnz + idx.col_entries[k]];
        grad_x[r] = static_cast<T>(acc);
      }
    });
  // 3: dqk and dbias, one entry per iteration.
  if (grad_qk || grad_bias)
    parallel_for(nnz, work_grain(N * d), [&](int64_t lo, int64_t hi) {
      for (int64_t e = lo; e < hi; ++e) {
        const int64_t p = idx.entry_row[e], g = idx.col_index[e];
        double total = 0;
        for (int64_t h = 0; h < H; ++h) {
          double acc = 0;
          for (int64_t n = 0; n < N; ++n) {
            const int64_t r = n * P + p;
            const T xv = x[n * G + g];
            const T a = std::exp(score(x, qk, bias, n, g, e, h, s) - lse[r * H + h]);
            const T v = dot_head(grad_out + r * d, values + g * d, h);
            const T ds = a * (xv * v - dots[r * H + h]);
            acc += static_cast<double>(ds * xv);
            total += static_cast<double>(ds);
          }
          if (grad_qk) grad_qk[e * H + h] = static_cast<T>(acc);
        }
        if (grad_bias) grad_bias[e] = static_cast<T>(total);
      }
    });
  // 4: dvalues, one (gene, head) per iteration.
  if (grad_values)
    parallel_for(G * H, work_grain(std::max<int64_t>(1, N * dh)), [&](int64_t lo, int64_t hi) {
      std::vector<double> acc(static_cast<size_t>(dh));
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t g = r / H, h = r % H;
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t n = 0; n < N; ++n) {
          const T xv = x[n * G + g];
          for (int64_t k = idx.col_ptr[g]; k < idx.col_ptr[g + 1]; ++k) {
            const int64_t e = idx.col_entries[k], row = n * P + idx.entry_row[e];
            const T w = std::exp(score(x, qk, bias, n, g, e, h, s) - lse[row * H + h]) * xv;
            const T* go = grad_out + row * d + h * dh;
            for (int64_t j = 0; j < dh; ++j) acc[j] += static_cast<double>(w * go[j]);
          }
        }
        for (int64_t j = 0; j < dh; ++j) grad_values[g * d + h * dh + j] = static_cast<T>(acc[j]);
      }
    });
}

#define CG_INSTANTIATE(T)                                                                                           \
  template void csr_attention_forward<T>(const T*, const T*, const T*, const T*, const CsrAttentionIndex&,          \
                                         const CsrAttentionSizes&, T*, T*, T*);                                     \
  template void csr_attention_backward<T>(const T*, const T*, const T*, const T*, const T*, const T*, const T*,     \
                                          const CsrAttentionIndex&, const CsrAttentionSizes&, T*, T*, T*, T*, T*, \
                                          T*);
CG_INSTANTIATE(float)
CG_INSTANTIATE(double)
#undef CG_INSTANTIATE

}  // namespace cg::kernels::cpu
