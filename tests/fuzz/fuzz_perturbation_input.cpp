// libFuzzer target: arbitrary bytes as predict_perturbation's --data, through the app's own loader
// (the forked read guard included) and the steps before training: the cells in use, the
// highly variable genes, the gene subset. Only cg::Error may leave: a crash or a hang of libhdf5
// in the guard's child, a malformed obs column, a wrong shape must each arrive as one Error, which
// the app prints as its one error line. Any other exception, a crash, a leak or a sanitizer
// report here is a bug. Built and run by tests/fuzz/run_fuzzers.sh.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "apps/predict_perturbation/config.h"
#include "apps/predict_perturbation/data.h"
#include "base/error.h"
#include "tests/fuzz/fuzz_input_file.h"

namespace {
const std::string& temp_path() {
  static const std::string p = fuzz_temp_path("pp");
  return p;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // A hang inside libhdf5 becomes the guard's timeout error well inside libFuzzer's -timeout.
  setenv("CELLGRAD_READ_CHECK_SECONDS", "5", 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = temp_path();
  if (!write_fuzz_input(path, data, size)) return 0;
  for (const char* preprocess : {"none", "log1p"}) {
    try {
      cg::perturb::Config c;
      c.data = path;
      c.preprocess = preprocess;
      cg::perturb::PerturbData d = cg::perturb::load_perturb_data(c);
      const std::vector<int64_t> rows = cg::perturb::cells_in_use(d, c.control);
      if (rows.size() >= 2) {
        const std::vector<int64_t> genes = cg::perturb::highly_variable_columns(d, rows, 8);
        (void)cg::perturb::with_genes(d, genes);
      }
    } catch (const cg::Error&) {
    } catch (const std::exception& e) {
      std::fprintf(stderr, "fuzz_perturbation_input: not a cg::Error: %s\n", e.what());
      __builtin_trap();
    }
  }
  return 0;
}
