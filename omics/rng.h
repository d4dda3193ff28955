#pragma once
// A tiny, fully specified RNG for data splits and bootstraps. std::shuffle and
// std::uniform_int_distribution are implementation-defined, so the same seed would give
// different splits under libstdc++ and libc++; everything here is spelled out bit for bit.
#include <cstdint>
#include <utility>
#include <vector>

namespace cg::omics {

// splitmix64 (Steele, Lea, Flood 2014): one 64-bit state, passes BigCrush, trivially seedable.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform integer in [0, bound) without modulo bias: reject the top partial block.
  uint64_t below(uint64_t bound) {
    if (bound <= 1) return 0;
    const uint64_t threshold = (0 - bound) % bound;  // = 2^64 mod bound
    for (;;) {
      const uint64_t r = next();
      if (r >= threshold) return r % bound;
    }
  }

 private:
  uint64_t state_;
};

// Fisher-Yates (Durstenfeld): for i = n-1 .. 1 swap v[i] with v[below(i+1)].
template <class T> void fisher_yates(std::vector<T>& v, SplitMix64& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(rng.below(i));
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace cg::omics
