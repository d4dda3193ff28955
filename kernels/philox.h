#pragma once
// Philox 4x32-10 (Salmon et al. 2011), counter-based: the value at (key, counter) depends on
// nothing else, so CPU and CUDA produce identical streams and any element can be computed
// independently. Element i of a draw uses counter block (offset + i / 4), lane i % 4.
#include <cstdint>

#include "kernels/hostdevice.h"

namespace cg::kernels {

struct Philox4 {
  uint32_t v[4];
};

CG_HD void philox_mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}

// seed -> key (two 32-bit words); counter = 64-bit block index plus a 64-bit stream id.
CG_HD Philox4 philox4x32_10(uint64_t seed, uint64_t block, uint64_t stream) {
  uint32_t c0 = static_cast<uint32_t>(block), c1 = static_cast<uint32_t>(block >> 32);
  uint32_t c2 = static_cast<uint32_t>(stream), c3 = static_cast<uint32_t>(stream >> 32);
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(0xD2511F53u, c0, hi0, lo0);
    philox_mulhilo(0xCD9E8D57u, c2, hi1, lo1);
    const uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// Uniform in (0, 1): 24 random bits centred in their bin, so never exactly 0 or 1 (safe for log).
CG_HD float philox_uniform01(uint32_t x) { return (static_cast<float>(x >> 8) + 0.5f) * (1.0f / 16777216.0f); }

CG_HD uint32_t philox_word(uint64_t seed, uint64_t stream, uint64_t offset, int64_t i) {
  const Philox4 r = philox4x32_10(seed, offset + static_cast<uint64_t>(i) / 4, stream);
  return r.v[i % 4];
}

}  // namespace cg::kernels
