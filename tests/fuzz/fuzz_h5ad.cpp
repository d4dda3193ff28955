// libFuzzer target: arbitrary bytes as an .h5ad / 10x .h5 file. The readers may only ever throw
// DataError; any other exception, crash, leak, or sanitizer report is a bug.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "omics/anndata.h"
#include "omics/error.h"
#include "tests/fuzz/fuzz_input_file.h"

using namespace cg::omics;

namespace {
const std::string& temp_path() {
  static const std::string p = fuzz_temp_path("h5ad");
  return p;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = temp_path();
  if (!write_fuzz_input(path, data, size)) return 0;
  try {
    AnnData a = read_h5ad(path);
    // Exercise the subset paths and the dense conversion on whatever was accepted.
    if (a.n_obs() > 0 && a.n_vars() > 0) {
      ReadOptions o;
      o.rows = std::vector<int64_t>{a.n_obs() - 1, 0, a.n_obs() / 2};
      o.genes = std::vector<int64_t>{a.n_vars() - 1, 0};
      if (a.n_vars() == 1) o.genes->pop_back();
      AnnData s = read_h5ad(path, o);
      if (s.X.rows() != 3) __builtin_trap();
      if (a.n_obs() * a.n_vars() < (1 << 20)) (void)a.dense_X();
    }
  } catch (const DataError&) {
  }
  try {
    (void)read_10x_h5(path);
  } catch (const DataError&) {
  }
  return 0;
}
