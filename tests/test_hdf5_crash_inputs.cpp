// Files that crash libhdf5 itself (issue 14): a global heap collection whose length field says 16
// bytes makes HDF5 1.10's H5HG_read read past the collection while decoding variable-length
// strings (the obs frame's names and attributes), and the process dies with SIGSEGV. Written here
// from a valid file, so nothing binary is committed. Unguarded, the app dies from the signal; with
// the read guard (omics/h5_read_guard.h) it ends with one error line naming the file and the
// object, exit status 1, and writes nothing. (Under ASan the overflow is reported by the sanitizer,
// which exits with status 1 instead of the signal; the message says so.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/predict_perturbation_fixtures.h"

using namespace cg::test::perturb;

namespace {

// Sets the collection-size field of the first global heap collection ("GCOL", version 1, three
// reserved bytes, then the 8-byte little-endian size) to 16, the size of its header alone.
// Returns false when the file holds no global heap (then there is nothing to corrupt).
bool shrink_global_heap(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = bytes.find("GCOL\x01", 0, 5);
  if (at == std::string::npos || at + 16 > bytes.size()) return false;
  const unsigned char sixteen[8] = {16, 0, 0, 0, 0, 0, 0, 0};
  std::memcpy(&bytes[at + 8], sixteen, 8);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return true;
}

}  // namespace

TEST_CASE("a file that crashes libhdf5 is one error line from the apps, not a signal") {
  if (!have_binary() || !cg::test::have_app("train_multitask") || !cg::test::have_app("analyze_encoding")) return;
  TempDir tmp;
  const std::string bad = tmp.file("bad.h5ad");
  write_data(bad, standard_cells());
  REQUIRE_MESSAGE(shrink_global_heap(bad), "our writer's file has no global heap: the corruption needs another site");
  write_data(tmp.file("good.h5ad"), standard_cells());

  // Without the guard the library's crash is the app's death (a shell reports 128 + SIGSEGV).
  ::setenv("CELLGRAD_READ_CHECK", "0", 1);
  const Result unguarded = run(tmp, "--data " + bad + " --out " + tmp.file("u") + " --models control");
  ::unsetenv("CELLGRAD_READ_CHECK");
  // A signal (status 128 + 11), or in a sanitizer build the sanitizer's report and exit status 1.
  const bool by_signal = unguarded.code >= 128;
  const bool by_sanitizer = !by_signal && contains(unguarded.output, "AddressSanitizer");
  if (!by_signal && !by_sanitizer)
    MESSAGE("skipped the crash checks: this libhdf5 does not crash on the file (exit " << unguarded.code << ")");

  const std::string apps[3][2] = {
      {"predict_perturbation", "--data " + bad + " --models control"},
      {"train_multitask", "--modality A=" + bad + " --modality B=" + tmp.file("good.h5ad")},
      {"analyze_encoding", "--data " + bad + " --label-key cell_type"},
  };
  for (const auto& [app, args] : apps) {
    CAPTURE(app);
    const std::string out = tmp.file(app + "_out");
    const Result r = cg::test::run_app(app, tmp, args + " --out " + out);
    INFO(r.output);
    CHECK(r.code == 1);
    const std::string prefix = app + ": error: " + bad + ": ";
    CHECK(r.output.rfind(prefix, 0) == 0);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
    if (by_signal)
      CHECK(contains(r.output, "the HDF5 library crashed (signal 11, Segmentation fault) while reading 'obs"));
    if (by_sanitizer)
      CHECK(contains(r.output, "ended the checking process abnormally (exit status 1) while reading 'obs"));
    check_nothing_written(out);
  }
}
