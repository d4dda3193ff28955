// nn/progress: how many progress lines each verbosity prints (checked on stderr itself, which
// the tests redirect to a file, so stderr is not a terminal here), the sweep position and its
// time estimate, and nn::fit's lines carrying a sweep prefix.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/optim.h"
#include "base/error.h"
#include "nn/fit.h"
#include "nn/layers.h"
#include "nn/progress.h"

using namespace cg;
using namespace cg::nn;

namespace {

// Everything written to file descriptor 2 while alive (so C stdio and iostreams alike).
class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    char name[] = "/tmp/cellgrad_stderr_XXXXXX";
    fd_ = mkstemp(name);
    REQUIRE(fd_ >= 0);
    path_ = name;
    saved_ = dup(2);
    REQUIRE(saved_ >= 0);
    REQUIRE(dup2(fd_, 2) == 2);
  }
  ~StderrCapture() {
    restore();
    std::remove(path_.c_str());
  }
  std::string text() {
    restore();
    std::ifstream in(path_);
    std::ostringstream os;
    os << in.rdbuf();
    std::remove(path_.c_str());
    return os.str();
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    close(fd_);
    saved_ = -1;
  }
  int fd_ = -1, saved_ = -1;
  std::string path_;
};

// Sets a verbosity for one test and puts the previous one back.
struct VerbosityScope {
  Verbosity before = verbosity();
  explicit VerbosityScope(Verbosity v) { set_verbosity(v); }
  ~VerbosityScope() { set_verbosity(before); }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The steps a run of `total` steps reports, the loop nn::fit runs (stopping early at `stop`).
std::vector<int> due_steps(Progress& p, int total, int stop = 0) {
  std::vector<int> out;
  for (int done = 1; done <= total; ++done) {
    const bool last = done == total || done == stop;
    if (p.due(done, last)) {
      out.push_back(done);
      p.report(done, "loss 1.0");
    }
    if (done == stop) break;
  }
  return out;
}

}  // namespace

TEST_CASE("progress: Quiet prints nothing, not even for a sweep") {
  VerbosityScope quiet(Verbosity::Quiet);
  StderrCapture capture;
  Progress p("quiet", 100);
  CHECK(due_steps(p, 100).empty());
  p.report(5, "forced");  // a direct report is silenced too
  SweepProgress sweep({{"type", 2}, {"model", 2}});
  sweep.begin({0, 1});
  sweep.finish();
  CHECK(capture.text().empty());
}

TEST_CASE("progress: Normal in a log file prints the first epoch, every 10% and the last") {
  VerbosityScope normal(Verbosity::Normal);
  StderrCapture capture;
  REQUIRE(isatty(2) == 0);  // the capture makes sure: on a terminal Normal prints every epoch
  Progress p("train", 100);
  CHECK(due_steps(p, 100) == std::vector<int>{1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100});
  const std::vector<std::string> lines = lines_of(capture.text());
  REQUIRE(lines.size() == 11);
  CHECK(lines[1].rfind("[train] 10/100  loss 1.0  (", 0) == 0);
  CHECK(lines[1].find(" left)") != std::string::npos);

  StderrCapture rest;  // the lines below are checked by step, not by text
  // An early stop is the last line; a short run prints every epoch.
  Progress early("train", 100);
  CHECK(due_steps(early, 100, 37) == std::vector<int>{1, 10, 20, 30, 37});
  Progress short_run("train", 4);
  CHECK(due_steps(short_run, 4) == std::vector<int>{1, 2, 3, 4});
  // A caller's cadence replaces the 10% rule.
  Progress every("train", 100);
  every.set_every(25);
  CHECK(due_steps(every, 100) == std::vector<int>{1, 25, 50, 75, 100});
}

TEST_CASE("progress: Verbose prints every epoch") {
  VerbosityScope verbose(Verbosity::Verbose);
  StderrCapture capture;
  Progress p("train", 30);
  p.set_every(10);  // Verbose wins over a caller's cadence
  CHECK(due_steps(p, 30).size() == 30);
  CHECK(lines_of(capture.text()).size() == 30);
}

TEST_CASE("progress: SweepProgress names the position and estimates the time left for the whole sweep") {
  VerbosityScope normal(Verbosity::Normal);
  double now = 100;  // a fake clock: seconds
  SweepProgress sweep({{"type", 7}, {"model", 4}}, "sweep", [&now] { return now; });
  CHECK(sweep.total_units() == 28);
  CHECK(sweep.prefix().empty());
  StderrCapture capture;

  sweep.begin({0, 0});
  CHECK(sweep.prefix() == "type 1/7, model 1/4");
  CHECK(sweep.eta_seconds() < 0);  // nothing finished: no estimate
  CHECK(sweep.status() == "type 1/7, model 1/4  (unit 1/28; 0s elapsed)");
  now += 10;
  sweep.begin({0, 1});  // the first unit took 10 s
  CHECK(sweep.finished_units() == 1);
  CHECK(sweep.eta_seconds() == doctest::Approx(270));  // 27 units left (this one included) x 10 s
  now += 4;
  CHECK(sweep.eta_seconds() == doctest::Approx(266));  // 4 s into the running unit
  now += 16;
  // Units may be skipped (a result already on disk): the position, not the count, says what is left.
  sweep.begin({2, 1});  // the second unit took 20 s: the mean is 15 s
  CHECK(sweep.prefix() == "type 3/7, model 2/4");
  CHECK(sweep.eta_seconds() == doctest::Approx(15 * 19));
  CHECK(sweep.status() == "type 3/7, model 2/4  (unit 10/28; 30s elapsed, ~4m45s left)");
  now += 15;
  sweep.begin({6, 3});
  sweep.finish();
  CHECK(sweep.finished_units() == 4);
  CHECK(sweep.eta_seconds() == doctest::Approx(0));

  const std::vector<std::string> lines = lines_of(capture.text());
  REQUIRE(lines.size() == 4);  // one line per unit begun
  CHECK(lines[2] == "[sweep] type 3/7, model 2/4  (unit 10/28; 30s elapsed, ~4m45s left)");

  // Indices are 0-based, one per level.
  CHECK_THROWS_AS(sweep.begin({7, 0}), Error);
  CHECK_THROWS_AS(sweep.begin({0}), Error);
  CHECK_THROWS_AS(SweepProgress({{"type", 0}}), Error);
}

TEST_CASE("progress: nn::fit puts the sweep prefix on its lines and follows the verbosity") {
  // y = 2x on 16 rows, learned by one Linear: only the progress lines matter here.
  std::vector<float> xs, ys;
  for (int i = 0; i < 16; ++i) {
    xs.push_back(static_cast<float>(i) / 8);
    ys.push_back(2.0f * static_cast<float>(i) / 8);
  }
  auto batch = [](const std::vector<float>& v, const Rows& rows) {
    std::vector<float> out;
    for (int64_t r : rows) out.push_back(v[static_cast<size_t>(r)]);
    return Tensor::from_vector(out, {static_cast<int64_t>(rows.size()), 1});
  };
  auto run = [&](Verbosity v) {
    VerbosityScope scope(v);
    Generator init(1, 0);
    Linear model(1, 1, init);
    Adam adam(model.parameters(), AdamOptions{});
    Phase phase;
    phase.name = "main";
    phase.optimizer = &adam;
    phase.forward = [&](const Rows& rows) {
      StepTerms t;
      const Tensor loss = mean(square(sub(model.forward(batch(xs, rows)), batch(ys, rows))));
      t.weighted = {{"mse", loss}};
      t.logged = {{"mse", loss}};
      return t;
    };
    FitHooks hooks;
    hooks.validate = [](int epoch, EpochRow& row) { row["val_loss"] = 1.0 / epoch; };
    FitOptions o;
    o.epochs = 20;
    o.batch_size = 8;
    o.label = "toy";
    o.progress_prefix = "type 3/7, model 2/4";
    Rows train;
    for (int64_t r = 0; r < 16; ++r) train.push_back(r);
    StderrCapture capture;
    fit(
        {&model, {}, {}}, [&](int) { return std::vector<Phase*>{&phase}; }, train, hooks, o);
    return lines_of(capture.text());
  };
  CHECK(run(Verbosity::Quiet).empty());
  const std::vector<std::string> normal = run(Verbosity::Normal);
  REQUIRE(normal.size() == 11);  // epochs 1, 2, 4, ..., 20: every 10% of 20
  CHECK(normal.front().rfind("[toy] type 3/7, model 2/4 | 1/20  mse ", 0) == 0);
  CHECK(normal.back().rfind("[toy] type 3/7, model 2/4 | 20/20  mse ", 0) == 0);
  CHECK(run(Verbosity::Verbose).size() == 20);
}
