// RunFolder never destroys anything: the current directory, a folder of foreign files or one
// holding an input are refused even with --overwrite; a second run into the same --out fails at
// once; an earlier run survives a kill at the worst instant of the commit (between the two
// renames) and is put back by the next run; SIGTERM removes the staging folder.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "apps/common/run_folder.h"
#include "autograd/error.h"
#include "test_omics_io_util.h"

namespace fs = std::filesystem;
using cg::apps::RunFolder;
using cg::test::TempDir;

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Entries beside a target that RunFolder made (staging, set-aside runs, lock files).
std::vector<std::string> debris(const fs::path& parent) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(parent))
    if (e.path().filename().string().rfind(".cellgrad-", 0) == 0) out.push_back(e.path().filename().string());
  return out;
}

void make_run(const std::string& out, bool overwrite, const std::string& file, const std::string& text) {
  RunFolder run(out, overwrite);
  cg::apps::write_text_file(run.path(file), text);
  run.commit();
}

}  // namespace

TEST_CASE("RunFolder: folders it must never replace are refused before any work, even with --overwrite") {
  TempDir tmp;
  const std::string cwd = fs::current_path().string();
  CHECK_THROWS_WITH_AS(RunFolder(".", true), doctest::Contains("is the current directory or one of its parents"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(RunFolder(fs::current_path().parent_path().string(), true),
                       doctest::Contains("current directory or one of its parents"), cg::Error);
  CHECK_THROWS_WITH_AS(RunFolder("/", true), doctest::Contains("root"), cg::Error);

  const fs::path foreign = tmp.path / "mine";
  fs::create_directories(foreign);
  std::ofstream(foreign / "notes.txt") << "my notes";
  CHECK_THROWS_WITH_AS(RunFolder(foreign.string(), true), doctest::Contains("holds files that are not a cellgrad run"),
                       cg::Error);
  CHECK(read_text(foreign / "notes.txt") == "my notes");

  const fs::path with_input = tmp.path / "data";
  fs::create_directories(with_input);
  CHECK_THROWS_WITH_AS(RunFolder(with_input.string(), true, {(with_input / "x.h5ad").string()}),
                       doctest::Contains("holds the input"), cg::Error);
  CHECK_THROWS_WITH_AS(RunFolder(tmp.path.string(), true, {(with_input / "x.h5ad").string()}),
                       doctest::Contains("holds the input"), cg::Error);
  CHECK(debris(tmp.path).empty());
  CHECK(fs::current_path().string() == cwd);
}

TEST_CASE("RunFolder: an earlier run is replaced only with --overwrite, whole, with nothing left beside it") {
  TempDir tmp;
  const std::string out = (tmp.path / "run").string();
  make_run(out, false, "a.txt", "first");
  CHECK(fs::exists(fs::path(out) / cg::apps::kRunMarker));
  CHECK_THROWS_WITH_AS(make_run(out, false, "b.txt", "second"), doctest::Contains("already holds a run"), cg::Error);
  CHECK(read_text(fs::path(out) / "a.txt") == "first");
  make_run(out, true, "b.txt", "second");
  CHECK_FALSE(fs::exists(fs::path(out) / "a.txt"));
  CHECK(read_text(fs::path(out) / "b.txt") == "second");
  CHECK(debris(tmp.path).empty());
  // An empty folder is fine without --overwrite.
  fs::create_directories(tmp.path / "empty");
  make_run((tmp.path / "empty").string(), false, "c.txt", "third");
  CHECK(read_text(tmp.path / "empty" / "c.txt") == "third");
}

TEST_CASE("RunFolder: a second run into the same folder fails at once, naming the first") {
  TempDir tmp;
  const std::string out = (tmp.path / "run").string();
  RunFolder first(out, false);
  CHECK_THROWS_WITH_AS(
      RunFolder(out, false),
      doctest::Contains(("another run (process " + std::to_string(::getpid()) + ") is writing into it").c_str()),
      cg::Error);
  cg::apps::write_text_file(first.path("x.txt"), "x");
  first.commit();
  CHECK(fs::exists(fs::path(out) / "x.txt"));
}

TEST_CASE("RunFolder: killed between the two renames of a commit, the earlier run is put back by the next run") {
  TempDir tmp;
  const std::string out = (tmp.path / "run").string();
  make_run(out, false, "a.txt", "earlier");
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::setenv("CELLGRAD_TEST_PAUSE_IN_COMMIT", "20000", 1);
    try {
      make_run(out, true, "b.txt", "new");
    } catch (...) {
    }
    ::_exit(0);
  }
  // Wait for the earlier run to be set aside, then kill the child in the pause.
  const fs::path aside = tmp.path / (".cellgrad-old-run-" + std::to_string(child));
  for (int i = 0; i < 1000 && !fs::exists(aside); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(fs::exists(aside));
  CHECK_FALSE(fs::exists(out));  // the instant the commit is most fragile
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(WIFSIGNALED(status));
  // The next run into the same place restores the earlier run before deciding anything.
  CHECK_THROWS_WITH_AS(RunFolder(out, false), doctest::Contains("already holds a run"), cg::Error);
  CHECK(read_text(fs::path(out) / "a.txt") == "earlier");
  CHECK(debris(tmp.path).empty());
}

TEST_CASE("RunFolder: SIGTERM during a run removes its staging folder and lock") {
  TempDir tmp;
  const std::string out = (tmp.path / "run").string();
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    RunFolder run(out, false);
    cg::apps::write_text_file(run.path("sub/partial.txt"), "half");
    ::raise(SIGTERM);
    ::_exit(3);  // not reached: the handler re-raises with the default action
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
  CHECK_FALSE(fs::exists(out));
  CHECK(debris(tmp.path).empty());
}

TEST_CASE("write_text_file: a file in a missing folder is one error naming it") {
  TempDir tmp;
  const std::string path = (tmp.path / "absent" / "x.json").string();
  CHECK_THROWS_WITH_AS(cg::apps::write_text_file(path, "{}"), doctest::Contains(path.c_str()), cg::Error);
}
