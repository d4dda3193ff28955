#pragma once
// Ablation variants and the comparison table. A variant is a name, or several joined by '+'
// ("joint+pcgrad"), each changing one setting of the base configuration; the table averages
// every held-out metric over the splits (mean and standard deviation).
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/train_multitask/config.h"

namespace cg::multitask {

// One part of a variant name: what it changes in the configuration. Every loss-weighting
// strategy and every schedule is a part too (under its own name), from their registries.
struct AblationPart {
  std::string name;
  std::string description;
  std::function<void(Config& c)> apply;
};
const std::vector<AblationPart>& ablation_parts();
// "\n  name: description" for every part, for --help.
std::string ablation_parts_help();

// The base configuration changed as `variant` says; throws listing the known names.
Config apply_variant(const Config& base, const std::string& variant);

struct VariantResult {
  std::string variant;
  std::vector<nlohmann::json> per_split;  // the metrics.json of every split
};

struct ComparisonTable {
  std::string markdown, csv;
};
ComparisonTable comparison_table(const std::vector<VariantResult>& results);

}  // namespace cg::multitask
