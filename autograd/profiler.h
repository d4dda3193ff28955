#pragma once
// Op-level time totals (apps' --profile): how long each op's forward and backward took, summed
// over a stretch of training. Only the outermost op is timed, so an op built from others (mean
// from sum, say) counts once and its parts count under it; backward time goes to the op whose
// backward it is. On CUDA the device is synchronised at each timed op's start and end so that its
// kernels' time lands on it (slower while profiling; nothing is timed or synchronised otherwise).
#include <cstdint>
#include <string>
#include <vector>

namespace cg::profiler {

enum class Pass { Forward, Backward, Optimizer };

// Starts a profile (clears the totals); stop() ends it. Nothing is timed between profiles.
void start();
void stop();
bool active();

struct OpTime {
  std::string op;
  int64_t forward_calls = 0, backward_calls = 0, optimizer_calls = 0;
  double forward_ms = 0, backward_ms = 0, optimizer_ms = 0;
  double total_ms() const { return forward_ms + backward_ms + optimizer_ms; }
};
// The totals of the last (or the running) profile, largest total first.
std::vector<OpTime> results();
// A table of `results`, with each op's share of `wall_ms` (the profiled stretch's wall time).
std::string table(const std::vector<OpTime>& results, double wall_ms);

// Times its lifetime as `op`'s `pass` while a profile is active and no other Scope is open on
// this thread.
class Scope {
 public:
  Scope(const char* op, Pass pass);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  const char* op_;
  Pass pass_;
  bool counted_ = false;  // opened while a profile was active (counted in this thread's depth)
  bool timing_ = false;   // the outermost such scope: the one that records
  double t0_ = 0;
};

}  // namespace cg::profiler

// First statement of a public op: CG_PROFILE_OP("matmul");
#define CG_PROFILE_OP(name) const ::cg::profiler::Scope cg_profile_scope_(name, ::cg::profiler::Pass::Forward)
