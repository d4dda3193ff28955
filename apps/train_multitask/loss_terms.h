#pragma once
// The loss terms of the multi-task model, registered once: name, one-line description, the
// --weight-<name> setting that scales it, the group it trains with, and when it is active.
// The flags, config validation, the trainer and the logs all read this list.
#include <set>
#include <string>
#include <vector>

#include "apps/train_multitask/config.h"

namespace cg::multitask {

enum class TermGroup {
  Translation,     // weighted together by the loss-weighting strategy
  Classification,  // its own optimizer and backward in the alternating/finetune schedules
  Adversary,       // the discriminators' own optimizer and backward
};

struct LossTermInfo {
  const char* name;
  const char* description;
  double Config::*weight;  // --weight-<name>
  TermGroup group;
  // Whether a configuration trains the term (switched-off parts and zero weights are left out).
  bool (*active)(const Config& c, bool has_labels);
};

// In logging order.
const std::vector<LossTermInfo>& loss_terms();
// Throws cg::Error listing the known names.
const LossTermInfo& loss_term(const std::string& name);
double weight_of(const Config& c, const std::string& term);

// Which loss terms a configuration trains.
struct ActiveTerms {
  std::set<std::string> on;
  bool has(const std::string& term) const { return on.count(term) > 0; }
  std::vector<std::string> translation_group() const;  // in logging order
};
ActiveTerms active_terms(const Config& c, bool has_labels);

}  // namespace cg::multitask
