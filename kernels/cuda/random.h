#pragma once
// CUDA Philox fills (float32); identical counters and recipes to kernels/cpu/random.h.
#include <cstdint>

namespace cg::kernels::cuda {

void philox_uniform(uint64_t seed, uint64_t stream, uint64_t offset, float* out, int64_t n);
void philox_normal(uint64_t seed, uint64_t stream, uint64_t offset, float* out, int64_t n);
void philox_bernoulli(uint64_t seed, uint64_t stream, uint64_t offset, double p, float* out, int64_t n);

}  // namespace cg::kernels::cuda
