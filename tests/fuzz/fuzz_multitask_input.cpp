// libFuzzer target: arbitrary bytes as one modality of train_multitask (the other a valid file of
// 30 cells), through the app's own loader (the forked read guard included), the split and the
// per-modality preprocessing fitted on the training cells. Only cg::Error may leave, as in
// fuzz_perturbation_input.cpp; anything else is a bug. Built and run by tests/fuzz/run_fuzzers.sh.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "apps/train_multitask/config.h"
#include "apps/train_multitask/data.h"
#include "apps/train_multitask/splits.h"
#include "base/error.h"
#include "tests/fuzz/fuzz_input_file.h"
#include "omics/anndata.h"

namespace {
const std::string& temp_path(const char* what) {
  static const std::string a = fuzz_temp_path("mt", "_a.h5ad"), b = fuzz_temp_path("mt", "_b.h5ad");
  return std::string(what) == "a" ? a : b;
}

// The fixed partner modality: cells c0..c29 (a fuzzed file that names its cells so pairs with
// it), 4 features, an obs column "type" with 3 classes.
void write_partner(const std::string& path) {
  cg::omics::AnnData a;
  cg::omics::DenseMatrix x(30, 4);
  std::vector<std::string> types;
  for (int i = 0; i < 30; ++i) {
    a.obs.index.push_back("c" + std::to_string(i));
    types.push_back("type" + std::to_string(i % 3));
    for (int j = 0; j < 4; ++j) x(i, j) = static_cast<float>((i * 7 + j * 3) % 11) / 5.0f;
  }
  a.X = cg::omics::Matrix::from(x);
  a.obs.set("type", cg::omics::Column::categorical(types));
  for (int j = 0; j < 4; ++j) a.var.index.push_back("f" + std::to_string(j));
  cg::omics::write_h5ad(path, a);
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv("CELLGRAD_READ_CHECK_SECONDS", "5", 0);
  write_partner(temp_path("b"));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = temp_path("a");
  if (!write_fuzz_input(path, data, size)) return 0;
  for (const char* preprocess : {"standardize", "log1p"}) {
    try {
      cg::multitask::Config c;
      c.modalities = {"A=" + path, "B=" + temp_path("b")};
      c.preprocess = {std::string("A=") + preprocess};
      c.label_key = "type";
      c.out = "/nonexistent/unused";  // validate() requires one; the loader writes nothing
      c.validate();
      const cg::multitask::Dataset d = cg::multitask::load_dataset(c);
      const std::vector<cg::multitask::Split> splits = cg::multitask::make_splits(c, d);
      if (!splits.empty()) (void)cg::multitask::prepare_modalities(d, splits.front().train, c.zero_variance, false);
    } catch (const cg::Error&) {
    } catch (const std::exception& e) {
      std::fprintf(stderr, "fuzz_multitask_input: not a cg::Error: %s\n", e.what());
      __builtin_trap();
    }
  }
  return 0;
}
