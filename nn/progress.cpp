#include "nn/progress.h"

#include <cstdio>

namespace cg::nn {

Progress::Progress(std::string what, int total)
    : what_(std::move(what)), total_(total), start_(std::chrono::steady_clock::now()) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string format_duration(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, (static_cast<int>(s) % 3600) / 60);
  return buf;
}

void Progress::report(int done, const std::string& detail) {
  const double el = elapsed_seconds();
  const double left = done > 0 ? el / done * (total_ - done) : 0.0;
  std::fprintf(stderr, "[%s] %d/%d  %s  (%s elapsed, ~%s left)\n", what_.c_str(), done, total_, detail.c_str(),
               format_duration(el).c_str(), format_duration(left).c_str());
  std::fflush(stderr);
}

}  // namespace cg::nn
