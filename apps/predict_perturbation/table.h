#pragma once
// The sweep's summary: one row per (model, held-out type[, perturbed value]) with the metrics
// averaged over seeds, and a mean row per model, as markdown and CSV.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cg::perturb {

struct ResultRow {
  std::string model, cell_type, perturbed;
  uint64_t seed = 0;
  nlohmann::json metrics;
};

struct SummaryTable {
  std::string markdown, csv;
};

SummaryTable summarize(const std::vector<ResultRow>& rows, bool show_perturbed);

}  // namespace cg::perturb
