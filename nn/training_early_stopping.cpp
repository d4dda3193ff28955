// EarlyStopping on a validation metric with patience and min_delta.
#include <cmath>

#include "nn/training.h"

namespace cg::nn {

EarlyStopping::Mode parse_early_stopping_mode(const std::string& mode) {
  if (mode == "min") return EarlyStopping::Mode::Min;
  if (mode == "max") return EarlyStopping::Mode::Max;
  throw Error("early stopping: unknown mode '" + mode + "' (expected min or max)");
}

EarlyStopping::EarlyStopping(std::string metric, Mode mode, int patience, double min_delta)
    : metric_(std::move(metric)),
      mode_(mode),
      patience_(patience),
      min_delta_(min_delta),
      best_(mode == Mode::Min ? INFINITY : -INFINITY) {
  CG_CHECK(patience >= 0, "early stopping on '" << metric_ << "': patience must be >= 0, found " << patience);
  CG_CHECK(std::isfinite(min_delta) && min_delta >= 0,
           "early stopping on '" << metric_ << "': min_delta must be >= 0, found " << min_delta);
}

EarlyStopping::Decision EarlyStopping::update(double value) {
  // Comparisons with NaN are false, so a NaN epoch counts as not improving.
  const bool improved = mode_ == Mode::Min ? value < best_ - min_delta_ : value > best_ + min_delta_;
  if (improved) {
    best_ = value;
    best_epoch_ = epochs_;
    bad_epochs_ = 0;
  } else {
    ++bad_epochs_;
  }
  ++epochs_;
  return Decision{improved, should_stop()};
}

EarlyStopping::Decision EarlyStopping::update(const std::map<std::string, double>& metrics) {
  auto it = metrics.find(metric_);
  if (it == metrics.end()) {
    std::string keys;
    for (const auto& [k, v] : metrics) keys += (keys.empty() ? "" : ", ") + k;
    throw Error("early stopping: metric '" + metric_ + "' is not among the epoch's metrics (" + keys + ")");
  }
  return update(it->second);
}

std::map<std::string, double> EarlyStopping::state(const std::string& prefix) const {
  return {{prefix + "best", best_},
          {prefix + "best_epoch", static_cast<double>(best_epoch_)},
          {prefix + "bad_epochs", static_cast<double>(bad_epochs_)},
          {prefix + "epochs", static_cast<double>(epochs_)}};
}

void EarlyStopping::load_state(const std::map<std::string, double>& scalars, const std::string& prefix) {
  auto get = [&](const char* key) {
    auto it = scalars.find(prefix + key);
    CG_CHECK(it != scalars.end(), "early stopping load_state: missing '" << prefix << key << "'");
    return it->second;
  };
  const double best = get("best"), best_epoch = get("best_epoch"), bad = get("bad_epochs"), epochs = get("epochs");
  CG_CHECK(bad >= 0 && epochs >= 0 && best_epoch >= -1, "early stopping load_state: negative counters");
  best_ = best;
  best_epoch_ = static_cast<int64_t>(best_epoch);
  bad_epochs_ = static_cast<int64_t>(bad);
  epochs_ = static_cast<int64_t>(epochs);
}

}  // namespace cg::nn
