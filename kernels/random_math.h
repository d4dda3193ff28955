#pragma once
// The per-element recipes of the Philox distributions, shared by CPU and CUDA.
#include <cmath>

#include "kernels/philox.h"

namespace cg::kernels {

CG_HD float philox_uniform_at(uint64_t seed, uint64_t stream, uint64_t offset, int64_t i) {
  return philox_uniform01(philox_word(seed, stream, offset, i));
}

// Box-Muller: lanes (0,1) give (r cos t, r sin t), lanes (2,3) likewise. Computed in float so
// CPU and CUDA follow the same arithmetic (results may differ in the last ulp through libm).
CG_HD float philox_normal_at(uint64_t seed, uint64_t stream, uint64_t offset, int64_t i) {
  const Philox4 r = philox4x32_10(seed, offset + static_cast<uint64_t>(i) / 4, stream);
  const int lane = static_cast<int>(i % 4), pair = lane / 2;
  const float u1 = philox_uniform01(r.v[2 * pair]), u2 = philox_uniform01(r.v[2 * pair + 1]);
  const float radius = sqrtf(-2.0f * logf(u1));
  const float angle = 6.2831853071795864769f * u2;
  return (lane % 2 == 0) ? radius * cosf(angle) : radius * sinf(angle);
}

CG_HD float philox_bernoulli_at(uint64_t seed, uint64_t stream, uint64_t offset, int64_t i, float p) {
  return philox_uniform_at(seed, stream, offset, i) < p ? 1.0f : 0.0f;
}

}  // namespace cg::kernels
