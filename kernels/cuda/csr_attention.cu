#include "kernels/cuda/check.cuh"
#include "kernels/cuda/csr_attention.h"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/runtime.h"

namespace cg::kernels::cuda {
namespace {

// One thread per item of each pass, as the CPU loops (kernels/cpu/csr_attention.cpp); rows are
// short (a pathway's genes, a gene's pathways), so a thread walks its row serially.
__device__ __forceinline__ float score(const float* x, const float* qk, const float* bias, int64_t n, int64_t g,
                                       int64_t e, int64_t h, const CsrAttentionSizes& s) {
  const float v = x[n * s.genes + g] * qk[e * s.heads + h];
  return bias ? v + bias[e] : v;
}

__device__ __forceinline__ float dot_head(const float* a, const float* b, int64_t h, int64_t dh) {
  double acc = 0;
  for (int64_t j = h * dh; j < (h + 1) * dh; ++j) acc += static_cast<double>(a[j]) * static_cast<double>(b[j]);
  return static_cast<float>(acc);
}

// One (cell, pathway, head) per thread.
__global__ void forward_kernel(const float* x, const float* qk, const float* values, const float* bias,
                               CsrAttentionIndex idx, CsrAttentionSizes s, float* out, float* lse, float* attention) {
  const int64_t P = s.pathways, H = s.heads, dh = s.head_dim, d = H * dh;
  CG_GRID_STRIDE(i, s.cells * P * H) {
    const int64_t r = i / H, h = i % H, n = r / P, p = r % P;
    const int64_t b = idx.row_ptr[p], end = idx.row_ptr[p + 1];
    float* o = out + r * d + h * dh;
    for (int64_t j = 0; j < dh; ++j) o[j] = 0.f;
    if (b == end) {
      lse[i] = 0.f;
      continue;
    }
    float m = -INFINITY;
    for (int64_t e = b; e < end; ++e) m = fmaxf(m, score(x, qk, bias, n, idx.col_index[e], e, h, s));
    double l = 0;
    for (int64_t e = b; e < end; ++e) l += expf(score(x, qk, bias, n, idx.col_index[e], e, h, s) - m);
    const float log_z = static_cast<float>(m + ::log(l));
    lse[i] = log_z;
    for (int64_t e = b; e < end; ++e) {
      const int64_t g = idx.col_index[e];
      const float a = expf(score(x, qk, bias, n, g, e, h, s) - log_z);
      if (attention) attention[(n * H + h) * s.nnz + e] = a;
      const float w = a * x[n * s.genes + g];
      const float* vr = values + g * d + h * dh;
      for (int64_t j = 0; j < dh; ++j) o[j] += w * vr[j];
    }
  }
}

// Pass 1: one (cell, pathway) per thread.
__global__ void backward_rows_kernel(const float* grad_out, const float* out, const float* lse, const float* x,
                                     const float* qk, const float* values, const float* bias, CsrAttentionIndex idx,
                                     CsrAttentionSizes s, float* dots, float* per_entry) {
  const int64_t G = s.genes, P = s.pathways, H = s.heads, dh = s.head_dim, d = H * dh;
  CG_GRID_STRIDE(r, s.cells * P) {
    const int64_t n = r / P, p = r % P;
    const float* go = grad_out + r * d;
    for (int64_t h = 0; h < H; ++h) dots[r * H + h] = dot_head(go, out + r * d, h, dh);
    for (int64_t e = idx.row_ptr[p]; e < idx.row_ptr[p + 1]; ++e) {
      const int64_t g = idx.col_index[e];
      const float xv = x[n * G + g];
      double t = 0;
      for (int64_t h = 0; h < H; ++h) {
        const float a = expf(score(x, qk, bias, n, g, e, h, s) - lse[r * H + h]);
        const float v = dot_head(go, values + g * d, h, dh);
        const float ds = a * (xv * v - dots[r * H + h]);
        t += static_cast<double>(a * v + ds * qk[e * H + h]);
      }
      per_entry[n * s.nnz + e] = static_cast<float>(t);
    }
  }
}

// Pass 2: one (cell, gene) per thread.
__global__ void backward_x_kernel(const float* per_entry, CsrAttentionIndex idx, CsrAttentionSizes s,
                                  float* grad_x) {
  CG_GRID_STRIDE(r, s.cells * s.genes) {
    const int64_t n = r / s.genes, g = r % s.genes;
    double acc = 0;
    for (int64_t k = idx.col_ptr[g]; k < idx.col_ptr[g + 1]; ++k) acc += per_entry[n * s.nnz + idx.col_entries[k]];
    grad_x[r] = static_cast<float>(acc);
  }
}

// Pass 3: one entry per thread.
__global__ void backward_links_kernel(const float* grad_out, const float* lse, const float* x, const float* qk,
                                      const float* values, const float* bias, const float* dots,
                                      CsrAttentionIndex idx, CsrAttentionSizes s, float* grad_qk,
                                      float* grad_bias) {
  const int64_t G = s.genes, P = s.pathways, H = s.heads, dh = s.head_dim, d = H * dh;
  CG_GRID_STRIDE(e, s.nnz) {
    const int64_t p = idx.entry_row[e], g = idx.col_index[e];
    double total = 0;
    for (int64_t h = 0; h < H; ++h) {
      double acc = 0;
      for (int64_t n = 0; n < s.cells; ++n) {
        const int64_t r = n * P + p;
        const float xv = x[n * G + g];
        const float a = expf(score(x, qk, bias, n, g, e, h, s) - lse[r * H + h]);
        const float v = dot_head(grad_out + r * d, values + g * d, h, dh);
        const float ds = a * (xv * v - dots[r * H + h]);
        acc += static_cast<double>(ds * xv);
        total += static_cast<double>(ds);
      }
      if (grad_qk) grad_qk[e * H + h] = static_cast<float>(acc);
    }
    if (grad_bias) grad_bias[e] = static_cast<float>(total);
  }
}

// Pass 4: one (gene, head, column) per thread.
__global__ void backward_values_kernel(const float* grad_out, const float* lse, const float* x, const float* qk,
                                       const float* bias, CsrAttentionIndex idx, CsrAttentionSizes s,
                                       float* grad_values) {
  const int64_t G = s.genes, P = s.pathways, H = s.heads, dh = s.head_dim, d = H * dh;
  CG_GRID_STRIDE(i, G * d) {
    const int64_t g = i / d, c = i % d, h = c / dh;
    double acc = 0;
    for (int64_t n = 0; n < s.cells; ++n) {
      const float xv = x[n * G + g];
      for (int64_t k = idx.col_ptr[g]; k < idx.col_ptr[g + 1]; ++k) {
        const int64_t e = idx.col_entries[k], row = n * P + idx.entry_row[e];
        const float w = expf(score(x, qk, bias, n, g, e, h, s) - lse[row * H + h]) * xv;
        acc += static_cast<double>(w * grad_out[row * d + c]);
      }
    }
    grad_values[i] = static_cast<float>(acc);
  }
}

}  // namespace

void csr_attention_forward(const float* x, const float* qk, const float* values, const float* bias,
                           const CsrAttentionIndex& idx, const CsrAttentionSizes& s, float* out, float* lse,
                           float* attention) {
  const int64_t n = s.cells * s.pathways * s.heads;
  if (n == 0 || s.head_dim == 0) return;
  forward_kernel<<<blocks_for(n), kThreads>>>(x, qk, values, bias, idx, s, out, lse, attention);
  CG_CUDA_LAUNCH_CHECK();
}

void csr_attention_backward(const float* grad_out, const float* out, const float* lse, const float* x,
                            const float* qk, const float* values, const float* bias, const CsrAttentionIndex& idx,
                            const CsrAttentionSizes& s, float* dots, float* per_entry, float* grad_x, float* grad_qk,
                            float* grad_bias, float* grad_values) {
  const int64_t rows = s.cells * s.pathways;
  if (rows > 0) {
    backward_rows_kernel<<<blocks_for(rows), kThreads>>>(grad_out, out, lse, x, qk, values, bias, idx, s, dots,
                                                         per_entry);
    CG_CUDA_LAUNCH_CHECK();
  }
  if (grad_x && s.cells * s.genes > 0) {
    backward_x_kernel<<<blocks_for(s.cells * s.genes), kThreads>>>(per_entry, idx, s, grad_x);
    CG_CUDA_LAUNCH_CHECK();
  }
  if ((grad_qk || grad_bias) && s.nnz > 0) {
    backward_links_kernel<<<blocks_for(s.nnz), kThreads>>>(grad_out, lse, x, qk, values, bias, dots, idx, s,
                                                           grad_qk, grad_bias);
    CG_CUDA_LAUNCH_CHECK();
  }
  const int64_t value_items = s.genes * s.heads * s.head_dim;
  if (grad_values && value_items > 0) {
    backward_values_kernel<<<blocks_for(value_items), kThreads>>>(grad_out, lse, x, qk, bias, idx, s, grad_values);
    CG_CUDA_LAUNCH_CHECK();
  }
}

}  // namespace cg::kernels::cuda
