// omics::read_guarded: a read that crashes or hangs inside libhdf5 must become one DataError
// naming the file and the object being read, never a signal that kills the app. The crash and the
// hang are staged here with a SIGSEGV and an endless loop after the child names an object (as the
// HDF5 helpers do); an error in the child's read reaches the caller from the caller's own read, of
// the same type; a read that survives runs again in this process and returns its value.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

#include "omics/error.h"
#include "omics/h5_read_guard.h"
#include "omics/hdf5_util.h"

using cg::omics::DataError;
using cg::omics::read_guarded;

namespace {
// Sets an environment variable for one scope.
struct ScopedEnv {
  std::string name;
  ScopedEnv(const char* n, const char* v) : name(n) { ::setenv(n, v, 1); }
  ~ScopedEnv() { ::unsetenv(name.c_str()); }
};
}  // namespace

TEST_CASE("read_guarded: a crash inside the read is one DataError naming the file and the object") {
  const pid_t self = ::getpid();
  auto crash = [&]() -> int {
    cg::omics::h5::note_reading("obs/cell_type");
    cg::omics::h5::note_reading("obs/__categories/cell_type");
    if (::getpid() != self) ::raise(SIGSEGV);  // only the checking child crashes
    return 1;
  };
  CHECK_THROWS_WITH_AS(read_guarded("bad.h5ad", crash),
                       "bad.h5ad: the HDF5 library crashed (signal 11, Segmentation fault) while reading "
                       "'obs/__categories/cell_type'; the file is corrupt or not a valid .h5ad/.h5 file",
                       DataError);
}

TEST_CASE("read_guarded: a read that never ends is stopped at the time limit, naming where it was stuck") {
  ScopedEnv limit("CELLGRAD_READ_CHECK_SECONDS", "1");
  auto hang = []() -> int {
    cg::omics::h5::note_reading("X/indices");
    for (;;) ::pause();
  };
  CHECK_THROWS_WITH_AS(read_guarded("loop.h5ad", hang),
                       doctest::Contains("loop.h5ad: reading it did not finish within 1 s (stuck reading 'X/indices')"),
                       DataError);
}

TEST_CASE("read_guarded: an error in the read reaches the caller from its own read, of its own type") {
  int reads_here = 0;
  const pid_t self = ::getpid();
  auto fails = [&]() -> int {
    if (::getpid() == self) ++reads_here;
    throw std::invalid_argument("obs: not a dataframe");
  };
  CHECK_THROWS_WITH_AS(read_guarded("f.h5ad", fails), "obs: not a dataframe", std::invalid_argument);
  CHECK(reads_here == 1);  // the child's attempt does not count here; the caller's does
}

TEST_CASE("read_guarded: a read that survives the check runs here and returns its value") {
  const pid_t self = ::getpid();
  int reads_here = 0;
  auto fine = [&] {
    if (::getpid() == self) ++reads_here;
    return std::string("cells");
  };
  CHECK(read_guarded("ok.h5ad", fine) == "cells");
  CHECK(reads_here == 1);
  {
    // Turned off: no child at all (a crash would kill this process, so only count the reads).
    ScopedEnv off("CELLGRAD_READ_CHECK", "0");
    CHECK(read_guarded("ok.h5ad", fine) == "cells");
    CHECK(reads_here == 2);
  }
  ScopedEnv bad("CELLGRAD_READ_CHECK_SECONDS", "soon");
  CHECK_THROWS_WITH_AS(read_guarded("ok.h5ad", fine),
                       "CELLGRAD_READ_CHECK_SECONDS: expected a positive number of seconds, found 'soon'", DataError);
}
