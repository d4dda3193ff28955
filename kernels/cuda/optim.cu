#include "kernels/cuda/check.cuh"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/optim.h"
#include "kernels/cuda/runtime.h"

namespace cg::kernels::cuda {
namespace {

// Index of the segment holding element i: the last segment whose begin <= i.
__device__ int find_segment(const OptimSegment<float>* segs, int n, int64_t i) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (segs[mid].begin <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// (A lambda written inside a __global__ function is device code without --extended-lambda.)
// Calls body(seg, j) for every element: seg is the segment, j the index inside it. Elements
// are visited in increasing order per thread, so after one search the segment only advances.
template <class Body>
__device__ void for_each_element(const OptimSegment<float>* segs, int nseg, int64_t total, Body body) {
  int64_t i = grid_thread_index();
  if (i >= total) return;
  const int64_t stride = grid_thread_count();
  int s = find_segment(segs, nseg, i);
  for (; i < total; i += stride) {
    while (i >= segs[s].begin + segs[s].length) ++s;
    body(segs[s], i - segs[s].begin);
  }
}

__global__ void sgd_kernel(const OptimSegment<float>* segs, int nseg, int64_t total, float* buf, float lr, float mu,
                           float wd, bool use_momentum, bool nesterov) {
  for_each_element(segs, nseg, total, [=](const OptimSegment<float>& seg, int64_t j) {
    float g = seg.grad[j];
    float* param = seg.param + j;
    if (wd != 0.f) g += wd * *param;
    if (use_momentum) {
      float* b = buf + seg.state + j;
      const float bj = mu * *b + g;
      *b = bj;
      g = nesterov ? g + mu * bj : bj;
    }
    *param -= lr * g;
  });
}

__global__ void adam_kernel(const OptimSegment<float>* segs, int nseg, int64_t total, float* m, float* v, float beta1,
                            float beta2, float eps, float wd, float step_size, float bias2_sqrt, float decay,
                            bool decoupled) {
  for_each_element(segs, nseg, total, [=](const OptimSegment<float>& seg, int64_t j) {
    float g = seg.grad[j];
    float w = seg.param[j];
    if (decoupled) w *= decay;
    else if (wd != 0.f) g += wd * w;
    const int64_t k = seg.state + j;
    const float mi = beta1 * m[k] + (1.f - beta1) * g;
    const float vi = beta2 * v[k] + (1.f - beta2) * g * g;
    m[k] = mi;
    v[k] = vi;
    // Plain division and sqrtf (IEEE-rounded without --use_fast_math) to stay close to the CPU.
    seg.param[j] = w - step_size * mi / (sqrtf(vi) / bias2_sqrt + eps);
  });
}

constexpr int kReduceThreads = 256;
constexpr int kMaxReduceBlocks = 1024;

// Block-level sum of a double per thread, in a fixed tree order.
__device__ double block_sum(double acc) {
  __shared__ double shared[kReduceThreads];
  shared[threadIdx.x] = acc;
  __syncthreads();
  for (int s = kReduceThreads / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) shared[threadIdx.x] += shared[threadIdx.x + s];
    __syncthreads();
  }
  return shared[0];
}

__global__ void sum_squares_kernel(const float* x, int64_t n, double* partials) {
  double acc = 0;
  CG_GRID_STRIDE(i, n) {
    const double xi = x[i];
    acc += xi * xi;
  }
  const double total = block_sum(acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

__global__ void sum_partials_kernel(const double* partials, int64_t n, double* out) {
  double acc = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) acc += partials[i];
  const double total = block_sum(acc);
  if (threadIdx.x == 0) out[0] = total;
}

}  // namespace

void sgd_step(const OptimSegment<float>* segments, int num_segments, int64_t total, float* buf, const SgdParams& p) {
  if (total == 0 || num_segments == 0) return;
  sgd_kernel<<<blocks_for(total), kThreads>>>(segments, num_segments, total, buf, (float)p.lr, (float)p.momentum,
                                              (float)p.weight_decay, p.momentum != 0, p.nesterov);
  CG_CUDA_LAUNCH_CHECK();
}

void adam_step(const OptimSegment<float>* segments, int num_segments, int64_t total, float* m, float* v,
               const AdamParams& p) {
  if (total == 0 || num_segments == 0) return;
  adam_kernel<<<blocks_for(total), kThreads>>>(segments, num_segments, total, m, v, (float)p.beta1, (float)p.beta2,
                                               (float)p.eps, (float)p.weight_decay, (float)p.step_size,
                                               (float)p.bias2_sqrt, (float)(1.0 - p.lr * p.weight_decay), p.decoupled);
  CG_CUDA_LAUNCH_CHECK();
}

int sum_squares_blocks(int64_t n) {
  const int64_t b = (n + kReduceThreads - 1) / kReduceThreads;
  return static_cast<int>(b < 1 ? 1 : (b > kMaxReduceBlocks ? kMaxReduceBlocks : b));
}

void sum_squares(const float* x, int64_t n, double* partials) {
  sum_squares_kernel<<<sum_squares_blocks(n), kReduceThreads>>>(x, n, partials);
  CG_CUDA_LAUNCH_CHECK();
}

void sum_partials(const double* partials, int64_t n, double* out) {
  sum_partials_kernel<<<1, kReduceThreads>>>(partials, n, out);
  CG_CUDA_LAUNCH_CHECK();
}

}  // namespace cg::kernels::cuda
