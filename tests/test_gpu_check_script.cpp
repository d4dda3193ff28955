// scripts/gpu_check.sh, the one-call GPU check, in its --dry-run mode: every part that needs no
// GPU runs here against this build's binaries (not the make gpu-bundle bundle), and the stage
// lines come out one per stage, in order, GPU stages skipped with the reason. About 20 s.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/app_runner.h"
#include "tests/test_paths.h"

namespace {

struct Stage {
  std::string name, status, reason;
};

struct ScriptRun {
  int code;
  std::string output;
  std::vector<Stage> stages;
};

// Runs the script from the repository root (the directory `make test` runs in).
// `env` goes before the command (VAR=value ...).
ScriptRun run_gpu_check(const cg::test::TempDir& tmp, const std::string& args, const std::string& env = "") {
  const std::string log = tmp.file("gpu_check_log.txt");
  const std::string cmd = env + " scripts/gpu_check.sh " + args + " > " + log + " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream f(log);
  std::stringstream ss;
  ss << f.rdbuf();
  ScriptRun r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str(), {}};
  const std::regex line(R"(^STAGE (\S+) +(PASS|FAIL|SKIP) +[0-9]+\.[0-9]s  (.*)$)");
  std::istringstream lines(r.output);
  for (std::string l; std::getline(lines, l);) {
    std::smatch m;
    if (std::regex_match(l, m, line)) r.stages.push_back({m[1], m[2], m[3]});
  }
  return r;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("gpu_check.sh --dry-run: one line per stage, GPU stages skipped with the reason, CPU parts pass") {
  if (!std::filesystem::exists("scripts/gpu_check.sh")) {
    FAIL_CHECK("scripts/gpu_check.sh not found: run the tests from the repository root");
    return;
  }
  if (!cg::test::have_app("cellgrad_tests") || !cg::test::have_app("predict_perturbation") ||
      !cg::test::have_app("train_multitask"))
    return;
  if (!cg::test::have_data({"perturbation/kang_scgen_valid_lognorm.h5ad", "crossmodal/unitednet_patchseq_RNA_TEM.h5ad",
                            "crossmodal/unitednet_patchseq_Ephys_TEM.h5ad"}))
    return;
  cg::test::TempDir tmp;
  const std::string out = tmp.file("out");
  const ScriptRun r = run_gpu_check(tmp, "--dry-run --bin '" + cg::test::app_bin_dir() + "' --data '" +
                                             cg::test::data_path("") + "' --out '" + out + "'");
  INFO(r.output);
  CHECK(r.code == 0);

  const std::vector<std::string> expected{"bundle",         "probe",           "cuda_tests", "racecheck",
                                          "memcheck_train", "parity_predict",  "parity_multitask",
                                          "bench",          "speed_bars",      "profile",
                                          "memcheck_tests"};
  REQUIRE(r.stages.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const Stage& s = r.stages[i];
    CAPTURE(s.name);
    CAPTURE(s.reason);
    CHECK(s.name == expected[i]);
    CHECK(s.status != "FAIL");
    CHECK_FALSE(s.reason.empty());
  }
  // No bundle was named: that stage says so. The probe runs for real and says there is no GPU run.
  CHECK(r.stages[0].status == "SKIP");
  CHECK(contains(r.stages[0].reason, "no --bundle"));
  CHECK(r.stages[1].status == "PASS");
  CHECK(contains(r.stages[1].reason, "dry run"));
  CHECK(contains(r.stages[1].reason, "libraries of"));
  // The CUDA test list resolves in this build's test binary.
  CHECK(contains(r.stages[2].reason, "CUDA test cases resolve in the test binary"));
  // The parity stages ran their CPU halves; the peer ran on a tiny CPU shape where torch is here.
  CHECK(contains(r.stages[5].reason, "the CPU half ran: r2_all"));
  CHECK(contains(r.stages[6].reason, "the CPU half ran: translation/"));
  CHECK((contains(r.stages[7].reason, "the peer's CPU path ran") || contains(r.stages[7].reason, "no python3 with torch")));
  for (const size_t gpu_only : {2, 3, 4, 8, 9, 10}) {
    CAPTURE(r.stages[gpu_only].name);
    CHECK(r.stages[gpu_only].status == "SKIP");
    CHECK(contains(r.stages[gpu_only].reason, "dry run: needs a GPU"));
  }
  // What comes back from a GPU machine: the summary (the same lines) and the logs.
  CHECK(std::filesystem::exists(out + "/summary.txt"));
  CHECK(std::filesystem::exists(out + "/gpu_check_logs.tar.gz"));
  std::ifstream summary(out + "/summary.txt");
  std::stringstream ss;
  ss << summary.rdbuf();
  size_t stage_lines = 0;
  for (size_t p = ss.str().find("STAGE "); p != std::string::npos; p = ss.str().find("STAGE ", p + 1)) ++stage_lines;
  CHECK(stage_lines == expected.size());
}

TEST_CASE("gpu_check.sh: an unknown argument is refused with exit status 2, before anything runs") {
  if (!std::filesystem::exists("scripts/gpu_check.sh")) {
    FAIL_CHECK("scripts/gpu_check.sh not found: run the tests from the repository root");
    return;
  }
  cg::test::TempDir tmp;
  const ScriptRun r = run_gpu_check(tmp, "--no-such-flag");
  CHECK(r.code == 2);
  CHECK(contains(r.output, "unknown argument '--no-such-flag'"));
  CHECK(r.stages.empty());
}

// The GPU machine's image has no `bc` (the first real call found every stage "out of time" because
// of it), and a second, short call reruns only the stages a fix touched (--only).
TEST_CASE("gpu_check.sh --only: the named stages run, the others are skipped; no bc needed") {
  if (!std::filesystem::exists("scripts/gpu_check.sh")) {
    FAIL_CHECK("scripts/gpu_check.sh not found: run the tests from the repository root");
    return;
  }
  if (!cg::test::have_app("cellgrad_tests")) return;
  cg::test::TempDir tmp;
  const std::string stub = tmp.file("nobc");
  std::filesystem::create_directories(stub);
  {
    std::ofstream bc(stub + "/bc");
    bc << "#!/bin/sh\necho 'bc: not on this machine' >&2\nexit 127\n";
  }
  std::filesystem::permissions(stub + "/bc", std::filesystem::perms::owner_all);
  const ScriptRun r = run_gpu_check(
      tmp, "--dry-run --only cuda_tests --bin '" + cg::test::app_bin_dir() + "' --out '" + tmp.file("out") + "'",
      "PATH='" + stub + "':\"$PATH\"");
  INFO(r.output);
  CHECK(r.code == 0);
  REQUIRE(r.stages.size() == 11);
  CHECK(r.stages[1].name == "probe");
  CHECK(r.stages[1].status == "PASS");
  CHECK(r.stages[2].name == "cuda_tests");
  CHECK(contains(r.stages[2].reason, "dry run: needs a GPU"));
  for (size_t i = 3; i < r.stages.size(); ++i) {
    CAPTURE(r.stages[i].name);
    CHECK(r.stages[i].status == "SKIP");
    CHECK(contains(r.stages[i].reason, "not in --only cuda_tests"));
  }
  CHECK_FALSE(contains(r.output, "out of time"));
  CHECK_FALSE(contains(r.output, "bc:"));
}
