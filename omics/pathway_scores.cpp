#include "omics/pathway_scores.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "omics/correlation.h"
#include "omics/error.h"

namespace cg::omics {

std::vector<double> pathway_scores(const std::vector<double>& delta, const std::vector<std::vector<int64_t>>& members) {
  std::vector<double> out;
  out.reserve(members.size());
  for (const auto& set : members) {
    double sum = 0;
    for (int64_t g : set) {
      if (g < 0 || static_cast<size_t>(g) >= delta.size())
        throw DataError("pathway_scores: gene index " + std::to_string(g) + " outside the " +
                        std::to_string(delta.size()) + " genes");
      sum += delta[static_cast<size_t>(g)];
    }
    out.push_back(set.empty() ? NAN : sum / static_cast<double>(set.size()));
  }
  return out;
}

std::vector<int64_t> rank_by_magnitude(const std::vector<double>& scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  auto key = [&](size_t i) { return std::isnan(scores[i]) ? -1.0 : std::fabs(scores[i]); };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) > key(b); });
  std::vector<int64_t> rank(scores.size());
  for (size_t r = 0; r < order.size(); ++r) rank[order[r]] = static_cast<int64_t>(r + 1);
  return rank;
}

PathwayDiscrepancy pathway_discrepancy(const std::vector<std::string>& ids,
                                       const std::vector<std::vector<int64_t>>& members,
                                       const std::vector<double>& real_delta, const std::vector<double>& pred_delta) {
  if (ids.size() != members.size() || real_delta.size() != pred_delta.size())
    throw DataError("pathway_discrepancy: expected one id per set and real and predicted responses over the same "
                    "genes; found " + std::to_string(ids.size()) + " ids, " + std::to_string(members.size()) +
                    " sets, " + std::to_string(real_delta.size()) + " and " + std::to_string(pred_delta.size()) +
                    " genes");
  PathwayDiscrepancy d;
  d.ids = ids;
  for (const auto& m : members) d.genes_present.push_back(static_cast<int64_t>(m.size()));
  d.real = pathway_scores(real_delta, members);
  d.predicted = pathway_scores(pred_delta, members);
  d.real_rank = rank_by_magnitude(d.real);
  d.predicted_rank = rank_by_magnitude(d.predicted);
  d.pearson = pearson(d.real, d.predicted);
  return d;
}

namespace {

std::vector<size_t> real_rank_order(const PathwayDiscrepancy& d) {
  std::vector<size_t> order(d.ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return d.real_rank[a] < d.real_rank[b]; });
  return order;
}

// Set names may hold commas (Reactome descriptions do); quote them as RFC 4180 does.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string number(double v) {
  if (std::isnan(v)) return "";
  std::ostringstream o;
  o.precision(6);
  o << v;
  return o.str();
}

}  // namespace

std::string discrepancy_csv(const PathwayDiscrepancy& d) {
  std::string s = "pathway,genes,real_score,predicted_score,real_rank,predicted_rank\n";
  for (size_t i : real_rank_order(d))
    s += csv_field(d.ids[i]) + "," + std::to_string(d.genes_present[i]) + "," + number(d.real[i]) + "," +
         number(d.predicted[i]) + "," + std::to_string(d.real_rank[i]) + "," + std::to_string(d.predicted_rank[i]) +
         "\n";
  return s;
}

std::string discrepancy_markdown(const PathwayDiscrepancy& d, const std::string& title) {
  std::string s = "## " + title + "\n\nPearson of real and predicted pathway scores: " +
                  (std::isnan(d.pearson) ? std::string("undefined (a constant score vector)") : number(d.pearson)) +
                  ". Score: mean over the set's genes of mean(perturbed) - mean(control); ranks by |score|, 1 = "
                  "largest change.\n\n| pathway | genes | real score | predicted score | real rank | predicted rank "
                  "|\n|---|---|---|---|---|---|\n";
  for (size_t i : real_rank_order(d))
    s += "| " + d.ids[i] + " | " + std::to_string(d.genes_present[i]) + " | " + number(d.real[i]) + " | " +
         number(d.predicted[i]) + " | " + std::to_string(d.real_rank[i]) + " | " +
         std::to_string(d.predicted_rank[i]) + " |\n";
  return s;
}

}  // namespace cg::omics
