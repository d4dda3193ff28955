// train_multitask under mpirun -np 2 (apps/common/process_role.h): the processes train in
// lockstep, rank 0 alone writes --out and prints, the other's scratch folder is gone after the
// run; an app that cannot train across processes refuses mpirun in one line.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/app_runner.h"
#include "tests/mpirun_check.h"
#include "tests/multitask_fixtures.h"

using namespace cg::test;
using namespace cg::test::multitask;
namespace fs = std::filesystem;

namespace {

// mpirun -np 2 APP ARGS with TMPDIR set to `scratch` in every process; status and output.
AppResult mpirun_app(const std::string& app, const TempDir& tmp, const std::string& scratch, const std::string& args) {
  const std::string log = tmp.file("mpirun.log");
  const std::string cmd = "TMPDIR=" + scratch + " OMP_NUM_THREADS=1 " + mpirun_2("-x TMPDIR -x OMP_NUM_THREADS") +
                          app_binary(app) + " " + args + " > " + log + " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream f(log);
  std::stringstream ss;
  ss << f.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, ss.str()};
}

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("train_multitask under mpirun -np 2: one run folder, one voice, no scratch left") {
  if (!have_app("train_multitask") || !mpirun_ready("the mpirun app check")) return;
  TempDir tmp;
  write_modality(tmp.file("a.h5ad"), cell_names(48), 6, 3);
  write_modality(tmp.file("b.h5ad"), cell_names(48), 5, 3);
  fs::create_directories(tmp.file("scratch"));
  const std::string args = "--modality A=" + tmp.file("a.h5ad") + " --modality B=" + tmp.file("b.h5ad") +
                           " --label-key type --epochs 3 --batch-size 16 --no-discriminator --device cpu --out " +
                           tmp.file("run");
  const AppResult r = mpirun_app("train_multitask", tmp, tmp.file("scratch"), args);
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(fs::exists(tmp.file("run/metrics.json")));
  CHECK(count(r.output, "results in " + tmp.file("run")) == 1);  // rank 1 is silent
  CHECK(count(r.output, "2 processes, each taking its share of every batch") == 1);
  CHECK(fs::is_empty(tmp.file("scratch")));                      // its scratch run is removed
  // The same bad input from both processes is one line.
  const AppResult bad = mpirun_app("train_multitask", tmp, tmp.file("scratch"),
                                   args + "2 --weight-translation -0.5");
  CHECK(bad.code != 0);
  CHECK(count(bad.output, "train_multitask: error:") == 1);
  CHECK_FALSE(fs::exists(tmp.file("run2")));
  // An adversary's own update cannot be shared yet: refused in one line, nothing written.
  const AppResult adversary = mpirun_app("train_multitask", tmp, tmp.file("scratch"),
                                         "--modality A=" + tmp.file("a.h5ad") + " --modality B=" + tmp.file("b.h5ad") +
                                             " --label-key type --epochs 2 --device cpu --out " + tmp.file("run3"));
  CHECK(adversary.code != 0);
  CHECK_MESSAGE(count(adversary.output, "which several processes cannot train yet") == 1, adversary.output);
  CHECK_FALSE(fs::exists(tmp.file("run3")));
  CHECK(fs::is_empty(tmp.file("scratch")));
}

TEST_CASE("an app that does not train across processes refuses mpirun -np 2 in one line") {
  if (!have_app("predict_perturbation") || !mpirun_ready("the mpirun refusal check")) return;
  TempDir tmp;
  fs::create_directories(tmp.file("scratch"));
  const AppResult r = mpirun_app("predict_perturbation", tmp, tmp.file("scratch"),
                                 "--data " + tmp.file("none.h5ad") + " --out " + tmp.file("out"));
  CHECK(r.code != 0);
  CHECK_MESSAGE(r.output.find("predict_perturbation does not train across processes yet") != std::string::npos,
                r.output);
  CHECK_FALSE(fs::exists(tmp.file("out")));
}
