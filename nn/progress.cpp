#include "nn/progress.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <sstream>

#include "base/error.h"

namespace cg::nn {

namespace {

std::atomic<Verbosity> g_verbosity{Verbosity::Normal};

// Steps between lines in a log file: about ten lines per run.
int tenth_of(int total) { return std::max(1, (total + 9) / 10); }

}  // namespace

void set_verbosity(Verbosity v) { g_verbosity.store(v); }
Verbosity verbosity() { return g_verbosity.load(); }

std::string format_duration(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, (static_cast<int>(s) % 3600) / 60);
  return buf;
}

// ---- Progress ------------------------------------------------------------------------------

Progress::Progress(std::string what, int total, std::string prefix)
    : what_(std::move(what)),
      prefix_(std::move(prefix)),
      total_(total),
      terminal_(isatty(2) == 1),
      start_(std::chrono::steady_clock::now()) {}

void Progress::set_every(int every) { every_ = std::max(0, every); }

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

bool Progress::due(int done, bool last) const {
  switch (verbosity()) {
    case Verbosity::Quiet: return false;
    case Verbosity::Verbose: return true;
    case Verbosity::Normal: break;
  }
  if (every_ == 0 && terminal_) return true;
  // The first line gives the pace (and so the time the whole run will take) early.
  if (done == 1 || last || done >= total_) return true;
  return done % (every_ > 0 ? every_ : tenth_of(total_)) == 0;
}

void Progress::report(int done, const std::string& detail) {
  if (verbosity() == Verbosity::Quiet) return;
  const double el = elapsed_seconds();
  const double left = done > 0 ? el / done * (total_ - done) : 0.0;
  std::string head = what_.empty() ? "" : "[" + what_ + "] ";
  if (!prefix_.empty()) head += prefix_ + " | ";
  std::fprintf(stderr, "%s%d/%d  %s  (%s elapsed, ~%s left)\n", head.c_str(), done, total_, detail.c_str(),
               format_duration(el).c_str(), format_duration(left).c_str());
  std::fflush(stderr);
}

// ---- SweepProgress -------------------------------------------------------------------------

SweepProgress::SweepProgress(std::vector<SweepLevel> levels, std::string what, Clock clock)
    : levels_(std::move(levels)), what_(std::move(what)), clock_(std::move(clock)) {
  CG_CHECK(!levels_.empty(), "a sweep needs at least one level");
  for (const auto& l : levels_) {
    CG_CHECK(l.total >= 1, "sweep level '" << l.name << "' needs a total of at least 1, found " << l.total);
    total_ *= l.total;
  }
  if (!clock_) {
    const auto t0 = std::chrono::steady_clock::now();
    clock_ = [t0] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  }
  start_ = now();
}

double SweepProgress::now() const { return clock_(); }

double SweepProgress::elapsed_seconds() const { return now() - start_; }

void SweepProgress::finish() {
  if (!running_) return;
  finished_seconds_ += now() - unit_start_;
  ++finished_;
  running_ = false;
}

void SweepProgress::begin(const std::vector<int>& indices) {
  CG_CHECK(indices.size() == levels_.size(),
           "sweep progress: " << levels_.size() << " indices expected (one per level), found " << indices.size());
  int position = 0;
  for (size_t k = 0; k < levels_.size(); ++k) {
    // 0-based: a 1-based caller fails here at its last unit instead of printing "8/7".
    CG_CHECK(indices[k] >= 0 && indices[k] < levels_[k].total, "sweep progress: index "
                                                                   << indices[k] << " of level '" << levels_[k].name
                                                                   << "' is outside [0, " << levels_[k].total << ")");
    position = position * levels_[k].total + indices[k];
  }
  finish();
  current_ = indices;
  position_ = position;
  running_ = true;
  unit_start_ = now();
  if (verbosity() == Verbosity::Quiet) return;
  std::fprintf(stderr, "[%s] %s\n", what_.c_str(), status().c_str());
  std::fflush(stderr);
}

std::string SweepProgress::prefix() const {
  std::ostringstream os;
  for (size_t k = 0; k < current_.size(); ++k)
    os << (k ? ", " : "") << levels_[k].name << " " << current_[k] + 1 << "/" << levels_[k].total;
  return os.str();
}

double SweepProgress::eta_seconds() const {
  if (finished_ == 0) return -1;
  const double mean = finished_seconds_ / finished_;
  if (!running_) return mean * (total_ - position_ - 1);
  return std::max(0.0, mean * (total_ - position_) - (now() - unit_start_));
}

std::string SweepProgress::status() const {
  std::ostringstream os;
  os << prefix() << "  (unit " << position_ + 1 << "/" << total_ << "; " << format_duration(elapsed_seconds())
     << " elapsed";
  const double eta = eta_seconds();
  if (eta >= 0) os << ", ~" << format_duration(eta) << " left";
  os << ")";
  return os.str();
}

}  // namespace cg::nn
