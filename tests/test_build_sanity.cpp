// Checks of the compiler and flags themselves: code patterns that a miscompiling toolchain got
// wrong on our machines. GCC 12.2 with -O3 -march=native (AVX-512) turned the first row of this
// nested initializer list into {1, 1, 1, 1}; the Makefile builds with -mno-avx512f for that.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace {
// Out of line and not inlined, so the literal is built the way the optimiser chooses.
__attribute__((noinline)) std::vector<std::vector<int64_t>> nested_literal() {
  return {{1, 1, 0, 0}, {0, 2, 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 0}};
}
}  // namespace

TEST_CASE("build sanity: nested initializer lists keep their values under the build's flags") {
  const std::vector<std::vector<int64_t>> m = nested_literal();
  const std::vector<std::vector<int64_t>> local{{1, 1, 0, 0}, {0, 2, 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 0}};
  REQUIRE(m.size() == 4);
  const int64_t expected[4][4] = {{1, 1, 0, 0}, {0, 2, 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 0}};
  for (size_t r = 0; r < 4; ++r)
    for (size_t c = 0; c < 4; ++c) {
      INFO("row " << r << ", column " << c);
      CHECK(m[r][c] == expected[r][c]);
      CHECK(local[r][c] == expected[r][c]);
    }
}
