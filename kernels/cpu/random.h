#pragma once
// CPU Philox fills; value i comes from counter block offset + i/4, lane i%4 (see kernels/philox.h).
#include <cstdint>

namespace cg::kernels::cpu {

template <class T> void philox_uniform(uint64_t seed, uint64_t stream, uint64_t offset, T* out, int64_t n);
// Box-Muller on lanes (0,1) and (2,3) of each block: value i uses the pair containing lane i%4.
template <class T> void philox_normal(uint64_t seed, uint64_t stream, uint64_t offset, T* out, int64_t n);
template <class T> void philox_bernoulli(uint64_t seed, uint64_t stream, uint64_t offset, double p, T* out, int64_t n);

}  // namespace cg::kernels::cpu
