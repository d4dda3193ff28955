#pragma once
// Running a built app binary from a test (apps are not linked into the test binary): the
// binary is looked up beside the running test binary ($(BUILD)/bin/cellgrad_tests sits next to
// the apps of the same build, so `make BUILD=x test` never runs another build's stale apps);
// $CELLGRAD_BIN_DIR overrides the folder. Apps run with one OpenMP thread, stdout and stderr
// captured together.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "test_omics_io_util.h"

namespace cg::test {

inline std::string app_bin_dir() {
  if (const char* dir = std::getenv("CELLGRAD_BIN_DIR")) return dir;
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("build/bin") : self.parent_path().string();
}

inline std::string app_binary(const std::string& app) { return app_bin_dir() + "/" + app; }

// True when the app is built; otherwise a failure naming the missing binary (a test of an app
// that was not built has not passed).
inline bool have_app(const std::string& app) {
  if (std::filesystem::exists(app_binary(app))) return true;
  FAIL_CHECK(app_binary(app) << " is not built (make builds it beside cellgrad_tests; CELLGRAD_BIN_DIR names "
                                "another folder)");
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

// A JSON file an app wrote (null when it is missing), and one a test writes for an app.
inline nlohmann::json read_json(const std::string& path) {
  nlohmann::json j;
  std::ifstream f(path);
  if (f) f >> j;
  return j;
}
inline void write_json(const std::string& path, const nlohmann::json& j) { std::ofstream(path) << j.dump(1); }

}  // namespace cg::test
