#include "kernels/cuda/check.cuh"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/random.h"
#include "kernels/cuda/runtime.h"
#include "kernels/random_math.h"

namespace cg::kernels::cuda {
namespace {
enum class Dist { Uniform, Normal, Bernoulli };
__global__ void philox_kernel(Dist dist, uint64_t seed, uint64_t stream, uint64_t offset, float p, float* out,
                              int64_t n) {
  CG_GRID_STRIDE(i, n) {
    switch (dist) {
      case Dist::Uniform: out[i] = philox_uniform_at(seed, stream, offset, i); break;
      case Dist::Normal: out[i] = philox_normal_at(seed, stream, offset, i); break;
      case Dist::Bernoulli: out[i] = philox_bernoulli_at(seed, stream, offset, i, p); break;
    }
  }
}
void launch(Dist d, uint64_t seed, uint64_t stream, uint64_t offset, float p, float* out, int64_t n) {
  if (n == 0) return;
  philox_kernel<<<blocks_for(n), kThreads>>>(d, seed, stream, offset, p, out, n);
  CG_CUDA_LAUNCH_CHECK();
}
}  // namespace

void philox_uniform(uint64_t seed, uint64_t stream, uint64_t offset, float* out, int64_t n) {
  launch(Dist::Uniform, seed, stream, offset, 0.f, out, n);
}
void philox_normal(uint64_t seed, uint64_t stream, uint64_t offset, float* out, int64_t n) {
  launch(Dist::Normal, seed, stream, offset, 0.f, out, n);
}
void philox_bernoulli(uint64_t seed, uint64_t stream, uint64_t offset, double p, float* out, int64_t n) {
  launch(Dist::Bernoulli, seed, stream, offset, static_cast<float>(p), out, n);
}

}  // namespace cg::kernels::cuda
