#pragma once
// One-line progress reports for long work: what, step i of n, the numbers that matter, and
// the estimated time left from the average pace so far. Printed to stderr so that stdout stays
// for results (tables) that scripts may parse. How many lines is a process-wide choice: a log
// file should not fill with one line per epoch, a terminal may.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace cg::nn {

// Quiet: no progress lines (errors only). Normal: a line per step on a terminal; in a log file
// (stderr not a terminal) the first step, one every ~10% of the steps, and the last. Verbose: a
// line per step everywhere.
enum class Verbosity { Quiet, Normal, Verbose };
void set_verbosity(Verbosity v);
Verbosity verbosity();

class Progress {
 public:
  // `prefix` says where this work sits in a larger one (a SweepProgress::prefix(), e.g.
  // "type 3/7, model 2/4") and is printed after the bracketed `what`.
  Progress(std::string what, int total, std::string prefix = "");
  // A caller's own cadence (every N steps, with the first and the last), which replaces the
  // Normal rule above; 0 restores it. Quiet still prints nothing.
  void set_every(int every);
  // Whether step `done` (1-based) gets a line under the verbosity; `last`: no step follows
  // (the final one, or an early stop).
  bool due(int done, bool last = false) const;
  // Prints step `done` (1-based) with a free-form detail ("loss 12.3 val 11.9"), unless Quiet.
  void report(int done, const std::string& detail);
  double elapsed_seconds() const;

 private:
  std::string what_, prefix_;
  int total_, every_ = 0;
  bool terminal_;  // stderr, when constructed
  std::chrono::steady_clock::time_point start_;
};

// A sweep of nested loops (cell type x model x seed ...): where it is, and the time left for
// all of it from the mean time of the finished innermost units.
struct SweepLevel {
  std::string name;  // "type"
  int total = 0;     // its loop's length, at least 1
};

class SweepProgress {
 public:
  using Clock = std::function<double()>;  // seconds since any fixed point; tests pass their own
  // Levels outermost first. Empty `clock`: the steady clock.
  explicit SweepProgress(std::vector<SweepLevel> levels, std::string what = "sweep", Clock clock = {});
  // Starts the unit at `indices` (0-based loop indices, one per level, outermost first) and
  // prints "[sweep] <status()>" unless Quiet. The unit running before it counts as finished.
  void begin(const std::vector<int>& indices);
  // The running unit is finished (begin() does this for the one before it; call it after the
  // last unit so that the sweep's total time is right).
  void finish();
  // "type 3/7, model 2/4" for the running (or last begun) unit; empty before begin().
  std::string prefix() const;
  // prefix(), then "(unit 10/28; 5m12s elapsed, ~9m left)"; the estimate once a unit has finished.
  std::string status() const;
  // Seconds left for the whole sweep: the mean time of the finished units times the units not
  // yet finished (the running one included), less the running unit's time so far. Negative
  // before a unit has finished (nothing to estimate from).
  double eta_seconds() const;
  double elapsed_seconds() const;
  int total_units() const { return total_; }
  int finished_units() const { return finished_; }

 private:
  double now() const;
  std::vector<SweepLevel> levels_;
  std::string what_;
  Clock clock_;
  std::vector<int> current_;
  int total_ = 1, position_ = -1, finished_ = 0;
  bool running_ = false;
  double start_ = 0, unit_start_ = 0, finished_seconds_ = 0;
};

std::string format_duration(double seconds);

}  // namespace cg::nn
