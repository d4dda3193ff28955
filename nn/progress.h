#pragma once
// One-line progress reports for long work: what, step i of n, the numbers that matter, and
// the estimated time left from the average pace so far. Printed to stderr so that stdout stays
// for results (tables) that scripts may parse.
#include <chrono>
#include <string>

namespace cg::nn {

class Progress {
 public:
  Progress(std::string what, int total);
  // Report step `done` (1-based) with a free-form detail ("loss 12.3 val 11.9").
  void report(int done, const std::string& detail);
  double elapsed_seconds() const;

 private:
  std::string what_;
  int total_;
  std::chrono::steady_clock::time_point start_;
};

std::string format_duration(double seconds);

}  // namespace cg::nn
