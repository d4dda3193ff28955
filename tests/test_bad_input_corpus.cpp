// The bad-input corpus (issue 14): tests/corpus/make_corpus.py writes, at test time, 250+ hostile
// cases for the three apps (files that are not HDF5, truncated, or break anndata's structure one
// piece at a time; NaN, negative values, zero cells or genes; keys and values the file lacks;
// numbers out of range; broken configs and command lines; a file that crashes libhdf5). Every
// case must end with exactly one error line, the last one, naming what was expected (the case's
// expected text), a non-zero exit that is not a signal or a timeout, no output folder and no
// staging debris beside it.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/app_runner.h"

namespace fs = std::filesystem;

namespace {

struct Case {
  std::string name, app, args, expect;
};

struct Outcome {
  int code = 0;
  std::string output;
};

std::vector<Case> read_cases(const std::string& tsv) {
  std::vector<Case> cases;
  std::ifstream f(tsv);
  for (std::string line; std::getline(f, line);) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, '\t');) cols.push_back(c);
    while (cols.size() < 4) cols.emplace_back();
    cases.push_back({cols[0], cols[1], cols[2], cols[3]});
  }
  return cases;
}

std::string replace_out(std::string args, const std::string& out) {
  const std::string key = "{out}";
  for (size_t at = args.find(key); at != std::string::npos; at = args.find(key, at + out.size()))
    args.replace(at, key.size(), out);
  return args;
}

Outcome run_case(const Case& c, const std::string& out, const std::string& log) {
  // sh -c: some cases build an argument with $(printf ...); timeout: a hang is a failure too.
  const std::string cmd = "OMP_NUM_THREADS=1 timeout 120 " + cg::test::app_binary(c.app) + " " +
                          replace_out(c.args, out) + " > '" + log + "' 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream f(log);
  std::stringstream ss;
  ss << f.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);)
    if (!l.empty()) lines.push_back(l);
  return lines;
}

}  // namespace

TEST_CASE("bad-input corpus: every hostile case ends in one error line, a clean exit status and no output") {
  for (const char* app : {"predict_perturbation", "train_multitask", "analyze_encoding"})
    if (!cg::test::have_app(app)) return;
  if (std::system("/usr/bin/python3 -c 'import h5py, numpy, scipy' > /dev/null 2>&1") != 0) {
    FAIL_CHECK("/usr/bin/python3 with h5py, numpy and scipy is needed to write the corpus (make deps installs them)");
    return;
  }
  cg::test::TempDir tmp;
  const std::string dir = tmp.file("corpus");
  const std::string gen =
      "/usr/bin/python3 tests/corpus/make_corpus.py '" + dir + "' > '" + tmp.file("gen.log") + "' 2>&1";
  REQUIRE_MESSAGE(std::system(gen.c_str()) == 0, "tests/corpus/make_corpus.py failed (run from the repository root)");
  const std::vector<Case> cases = read_cases(dir + "/cases.tsv");
  REQUIRE(cases.size() >= 150);

  // Two at a time (the machine's two cores); results checked afterwards, in order.
  std::vector<Outcome> outcomes(cases.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < cases.size();)
      outcomes[i] = run_case(cases[i], dir + "/out_" + std::to_string(i), tmp.file("log_" + std::to_string(i)));
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();

  size_t failed = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const Outcome& r = outcomes[i];
    const std::vector<std::string> lines = lines_of(r.output);
    const std::string prefix = c.app + ": error: ";
    size_t errors = 0;
    for (const auto& l : lines) errors += l.find(": error: ") != std::string::npos;
    const std::string last = lines.empty() ? "" : lines.back();
    std::string problem;
    if (r.code == 0) problem = "exit status 0";
    else if (r.code < 0 || r.code >= 124)
      problem = "killed by a signal or timed out (status " + std::to_string(r.code) + ")";
    else if (last.rfind(prefix, 0) != 0) problem = "the last line is not '" + prefix + "...'";
    else if (errors != 1) problem = std::to_string(errors) + " error lines";
    else if (!c.expect.empty() && last.find(c.expect) == std::string::npos)
      problem = "the error does not name '" + c.expect + "'";
    else if (fs::exists(dir + "/out_" + std::to_string(i))) problem = "an output folder was written";
    if (!problem.empty()) {
      ++failed;
      FAIL_CHECK("case '" << c.name << "' (" << c.app << "): " << problem << "\n  args: " << c.args
                          << "\n  output: " << r.output.substr(0, 600));
    }
  }
  // Staging folders, set-aside runs and lock files would sit beside the outputs, in `dir`.
  for (const auto& e : fs::directory_iterator(dir))
    CHECK_MESSAGE(e.path().filename().string().rfind(".cellgrad-", 0) != 0, "debris left: " << e.path());
  MESSAGE(cases.size() << " bad-input cases, " << failed << " mishandled");
}
