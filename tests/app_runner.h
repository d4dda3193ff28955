#pragma once
// Running a built app binary from a test (apps are not linked into the test binary): the
// binary is looked up in $CELLGRAD_BIN_DIR, default build/bin (what `make test` builds), and
// runs with one OpenMP thread, stdout and stderr captured together.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test_omics_io_util.h"

namespace cg::test {

inline std::string app_binary(const std::string& app) {
  const char* dir = std::getenv("CELLGRAD_BIN_DIR");
  return std::string(dir ? dir : "build/bin") + "/" + app;
}

// False, with a printed reason, when the app is not built.
inline bool have_app(const std::string& app) {
  if (std::filesystem::exists(app_binary(app))) return true;
  MESSAGE("skipped: " << app_binary(app) << " is not built (set CELLGRAD_BIN_DIR)");
  return false;
}

struct AppResult {
  int code;
  std::string output;
};

inline AppResult run_app(const std::string& app, const TempDir& tmp, const std::string& args) {
  const std::string log = tmp.file("log.txt");
  const std::string cmd = "OMP_NUM_THREADS=1 " + app_binary(app) + " " + args + " > " + log + " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream f(log);
  std::stringstream ss;
  ss << f.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
}

}  // namespace cg::test
