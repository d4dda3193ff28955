#include "autograd/profiler.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>

#include "autograd/dtype.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/runtime.h"
#endif

namespace cg::profiler {
namespace {

std::atomic<bool> g_active{false};
std::mutex g_mutex;
std::map<std::string, OpTime>& totals() {
  static std::map<std::string, OpTime> t;
  return t;
}
thread_local int t_depth = 0;
bool g_sync_cuda = false;  // decided once per profile

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void sync_device() {
#ifdef CELLGRAD_CUDA
  if (g_sync_cuda) kernels::cuda::synchronize();
#endif
}

}  // namespace

void start() {
  std::lock_guard<std::mutex> lock(g_mutex);
  totals().clear();
  g_sync_cuda = cuda_available();
  g_active = true;
}

void stop() {
  sync_device();
  g_active = false;
}

bool active() { return g_active.load(std::memory_order_relaxed); }

Scope::Scope(const char* op, Pass pass) : op_(op), pass_(pass) {
  if (!active()) return;
  counted_ = true;
  if (t_depth++ > 0) return;
  timing_ = true;
  sync_device();
  t0_ = now_ms();
}

Scope::~Scope() {
  if (!counted_) return;
  if (!timing_) {
    --t_depth;
    return;
  }
  sync_device();
  const double ms = now_ms() - t0_;
  --t_depth;
  std::lock_guard<std::mutex> lock(g_mutex);
  OpTime& t = totals()[op_];
  t.op = op_;
  switch (pass_) {
    case Pass::Forward: t.forward_ms += ms, ++t.forward_calls; break;
    case Pass::Backward: t.backward_ms += ms, ++t.backward_calls; break;
    case Pass::Optimizer: t.optimizer_ms += ms, ++t.optimizer_calls; break;
  }
}

std::vector<OpTime> results() {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::vector<OpTime> out;
  for (const auto& [name, t] : totals()) out.push_back(t);
  std::sort(out.begin(), out.end(), [](const OpTime& a, const OpTime& b) {
    return a.total_ms() != b.total_ms() ? a.total_ms() > b.total_ms() : a.op < b.op;
  });
  return out;
}

std::string table(const std::vector<OpTime>& rs, double wall_ms) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-22s %9s %12s %9s %12s %12s %7s\n", "op", "fwd calls", "forward ms", "bwd calls",
                "backward ms", "total ms", "share");
  out += line;
  double sum = 0;
  for (const OpTime& r : rs) {
    sum += r.total_ms();
    const int64_t fwd_calls = r.forward_calls + r.optimizer_calls;
    std::snprintf(line, sizeof line, "%-22s %9lld %12.2f %9lld %12.2f %12.2f %6.1f%%\n", r.op.c_str(),
                  static_cast<long long>(fwd_calls), r.forward_ms + r.optimizer_ms,
                  static_cast<long long>(r.backward_calls), r.backward_ms, r.total_ms(),
                  wall_ms > 0 ? 100.0 * r.total_ms() / wall_ms : 0.0);
    out += line;
  }
  std::snprintf(line, sizeof line, "%-22s %9s %12s %9s %12s %12.2f %6.1f%%  of %.2f ms wall\n", "(all ops)", "", "", "",
                "", sum, wall_ms > 0 ? 100.0 * sum / wall_ms : 0.0, wall_ms);
  out += line;
  return out;
}

}  // namespace cg::profiler
