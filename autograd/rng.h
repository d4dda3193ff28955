#pragma once
// Random numbers from Philox 4x32-10. A Generator is a seed plus a counter offset; each draw
// consumes counter blocks and advances the offset, so the same seed and the same sequence of
// draws give the same numbers on the CPU and on CUDA. Its state (seed, offset) is two integers,
// which is what checkpoints save.
#include <cstdint>

#include "autograd/tensor.h"

namespace cg {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0, uint64_t stream = 0) : seed_(seed), stream_(stream) {}

  Tensor uniform(const Shape& shape, Device device = Device::CPU, DType dtype = DType::F32);              // (0, 1)
  Tensor normal(const Shape& shape, Device device = Device::CPU, DType dtype = DType::F32);               // N(0, 1)
  Tensor bernoulli(const Shape& shape, double p, Device device = Device::CPU, DType dtype = DType::F32);  // 1 w.p. p
  // Uniform integer in [0, n), on the host (shuffling, sampling indices).
  uint32_t next_below(uint32_t n);

  uint64_t seed() const { return seed_; }
  uint64_t stream() const { return stream_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) {
    seed_ = seed;
    offset_ = offset;
  }

  // Reserve counter blocks for n values and return the offset of the first block.
  uint64_t reserve(int64_t n);

 private:
  uint64_t seed_, stream_, offset_ = 0;
};

}  // namespace cg
