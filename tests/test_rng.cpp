// Philox4x32-10 against the Random123 known-answer vectors; the distributions built on it;
// determinism; CUDA streams equal CPU streams.
#include <doctest/doctest.h>

#include <cmath>

#include "kernels/philox.h"
#include "tests/op_check.h"

using namespace cg;

namespace {
// kernels/philox.h packs the counter as (block low, block high, stream low, stream high) and the
// key as (seed low, seed high); this drives it with raw Random123 counter and key words.
kernels::Philox4 philox_raw(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
  const uint64_t block = uint64_t(c0) | (uint64_t(c1) << 32), stream = uint64_t(c2) | (uint64_t(c3) << 32);
  const uint64_t seed = uint64_t(k0) | (uint64_t(k1) << 32);
  return kernels::philox4x32_10(seed, block, stream);
}
std::vector<uint32_t> words(const kernels::Philox4& r) { return {r.v[0], r.v[1], r.v[2], r.v[3]}; }

struct Moments {
  double mean = 0, var = 0;
};
Moments moments(const std::vector<double>& v) {
  Moments m;
  for (double x : v) m.mean += x;
  m.mean /= v.size();
  for (double x : v) m.var += (x - m.mean) * (x - m.mean);
  m.var /= v.size() - 1;
  return m;
}
}  // namespace

TEST_CASE("philox4x32-10 matches the Random123 known-answer vectors") {
  CHECK(words(philox_raw(0, 0, 0, 0, 0, 0)) == std::vector<uint32_t>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(words(philox_raw(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)) ==
        std::vector<uint32_t>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(words(philox_raw(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0)) ==
        std::vector<uint32_t>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
  // philox_word(i) is lane i % 4 of block offset + i / 4.
  const auto block = kernels::philox4x32_10(5, 8, 3);
  for (int lane = 0; lane < 4; ++lane) CHECK(kernels::philox_word(5, 3, 7, 4 + lane) == block.v[lane]);
}

TEST_CASE("uniform: in (0, 1), mean 1/2, variance 1/12") {
  Generator gen(2024);
  const auto u = gen.uniform({100000}, Device::CPU, DType::F64).to_vector<double>();
  bool inside = true;
  for (double x : u) inside = inside && x > 0 && x < 1;
  CHECK(inside);
  const Moments m = moments(u);
  CHECK(m.mean == doctest::Approx(0.5).epsilon(0.01));      // se ~ 0.0009
  CHECK(m.var == doctest::Approx(1.0 / 12).epsilon(0.02));  // se ~ 0.0003 of 0.083
  // Deciles hold about a tenth each.
  std::vector<int> bins(10, 0);
  for (double x : u) ++bins[std::min(9, static_cast<int>(x * 10))];
  for (int b : bins) CHECK(std::abs(b - 10000) < 500);  // se ~ 95
}

TEST_CASE("normal: mean 0, variance 1, about 68.3% within one sigma") {
  Generator gen(7);
  const auto z = gen.normal({100000}, Device::CPU, DType::F64).to_vector<double>();
  const Moments m = moments(z);
  CHECK(std::abs(m.mean) < 0.015);                     // se ~ 0.003
  CHECK(m.var == doctest::Approx(1.0).epsilon(0.02));  // se ~ 0.0045
  double within = 0, tails = 0;
  for (double x : z) {
    within += std::abs(x) < 1;
    tails += std::abs(x) > 3;
  }
  CHECK(within / z.size() == doctest::Approx(0.6827).epsilon(0.01));
  CHECK(tails / z.size() < 0.005);  // expected 0.0027
  CHECK(tails > 0);
}

TEST_CASE("bernoulli: rate p, values 0 or 1") {
  for (double p : {0.0, 0.1, 0.5, 0.9, 1.0}) {
    Generator gen(11);
    const auto b = gen.bernoulli({100000}, p).to_vector<double>();
    double ones = 0;
    bool binary = true;
    for (double x : b) {
      ones += x;
      binary = binary && (x == 0 || x == 1);
    }
    INFO("p = " << p);
    CHECK(binary);
    CHECK(std::abs(ones / b.size() - p) < 0.006);  // se <= 0.0016
  }
  Generator gen(1);
  CHECK_THROWS_AS(gen.bernoulli({3}, 1.5), cg::Error);
}

TEST_CASE("generator: same state -> same stream; offsets and streams separate draws") {
  Generator a(99), b(99), c(99, 1);
  const auto first = a.uniform({10}).to_vector<float>();
  CHECK(first == b.uniform({10}).to_vector<float>());
  CHECK(first != c.uniform({10}).to_vector<float>());  // another stream
  CHECK(a.offset() == 3);                              // ceil(10 / 4) blocks
  CHECK(a.uniform({10}).to_vector<float>() != first);  // the offset moved on
  Generator replay(0);
  replay.set_state(99, 0);
  CHECK(replay.uniform({10}).to_vector<float>() == first);
  // float32 and float64 draws of the same state agree to float precision.
  Generator d(99);
  const auto dbl = d.uniform({10}, Device::CPU, DType::F64).to_vector<double>();
  for (size_t i = 0; i < first.size(); ++i) CHECK(dbl[i] == static_cast<double>(first[i]));
  // next_below stays in range and reaches every value.
  Generator e(5);
  std::vector<int> seen(7, 0);
  for (int i = 0; i < 700; ++i) {
    const uint32_t k = e.next_below(7);
    REQUIRE(k < 7);
    ++seen[k];
  }
  for (int s : seen) CHECK(s > 50);
}

TEST_CASE("generator: CUDA streams equal CPU streams") {
  if (!cg::test::cuda_ready("rng streams")) return;
  Generator gc(31337, 4), gg(31337, 4);
  gc.reserve(5);
  gg.reserve(5);
  CHECK(gc.uniform({12345}).to_vector<float>() == gg.uniform({12345}, Device::CUDA).to_vector<float>());  // bitwise
  const auto nc = gc.normal({12345}).to_vector<double>(), ng = gg.normal({12345}, Device::CUDA).to_vector<double>();
  CHECK(cg::test::max_rel_diff(nc, ng) < 1e-6);
  CHECK(gc.bernoulli({12345}, 0.3).to_vector<float>() == gg.bernoulli({12345}, 0.3, Device::CUDA).to_vector<float>());
  CHECK(gc.offset() == gg.offset());
}
