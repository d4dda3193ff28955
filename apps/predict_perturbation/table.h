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
  std::string decode;  // --decode for a latent model, "" for a baseline or the duplicate
  // Per-gene means of the predicted and of the real perturbed cells, for the type rank.
  std::vector<double> predicted_mean, real_mean;
};

// PerturBench's rank metric, which needs every type of the sweep: for each row, where the real
// perturbed mean of its type ranks among the predicted means of all held-out types of the
// same (model, perturbed value, seed), by Euclidean distance, as a fraction of the other types
// (0: its own prediction is the closest; 1: the farthest; ties count half). Sets
// metrics["type_rank"] where the sweep holds at least two types.
void add_type_ranks(std::vector<ResultRow>& rows);

struct SummaryTable {
  std::string markdown, csv;
};

// `preface`: lines printed above the markdown table (how the models decoded, what the rows mean).
SummaryTable summarize(const std::vector<ResultRow>& rows, bool show_perturbed, const std::string& preface = "");

}  // namespace cg::perturb
