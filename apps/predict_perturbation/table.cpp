#include "apps/predict_perturbation/table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <tuple>

#include "autograd/error.h"

namespace cg::perturb {
namespace {

struct Column {
  const char* key;
  const char* title;
  const char* format;
};
const Column kColumns[] = {
    {"r2_all", "R2 all", "%.3f"},
    {"r2_all_boot_std", "(boot sd)", "%.3f"},
    {"r2_top", "R2 top DEGs", "%.3f"},
    {"r2_top_boot_std", "(boot sd)", "%.3f"},
    {"common_degs", "common DEGs", "%.1f"},
    // logfc_pearson_all is the metrics' pearson_delta (kept there under its earlier name), shown
    // once, beside the other log-fold-change measures.
    {"logfc_pearson_all", "logFC r all", "%.3f"},
    {"logfc_cosine_all", "logFC cos all", "%.3f"},
    {"logfc_pearson_top", "logFC r top", "%.3f"},
    {"logfc_cosine_top", "logFC cos top", "%.3f"},
    {"e_distance_ratio", "E-dist ratio", "%.3f"},
    {"mmd_linear_ratio", "MMD ratio", "%.3f"},
    {"type_rank", "type rank", "%.2f"},
    {"train_seconds", "train s", "%.0f"},
};

double value_of(const nlohmann::json& m, const char* key) {
  if (!m.contains(key) || m[key].is_null()) return NAN;
  return m[key].get<double>();
}

std::string fmt(const char* f, double v) {
  if (!std::isfinite(v)) return "nan";
  char b[32];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

double distance(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t g = 0; g < a.size(); ++g) s += (a[g] - b[g]) * (a[g] - b[g]);
  return std::sqrt(s);
}

}  // namespace

void add_type_ranks(std::vector<ResultRow>& rows) {
  using Key = std::tuple<std::string, std::string, uint64_t>;
  std::map<Key, std::vector<size_t>> sweeps;
  for (size_t i = 0; i < rows.size(); ++i)
    if (!rows[i].real_mean.empty()) sweeps[{rows[i].model, rows[i].perturbed, rows[i].seed}].push_back(i);
  for (const auto& [key, members] : sweeps) {
    if (members.size() < 2) continue;  // one type: nothing to rank against
    for (size_t i : members) {
      const ResultRow& r = rows[i];
      const double own = distance(r.real_mean, r.predicted_mean);
      double closer = 0;
      for (size_t j : members) {
        if (j == i) continue;
        if (rows[j].predicted_mean.size() != r.real_mean.size())
          throw Error("add_type_ranks: " + rows[j].model + " " + rows[j].cell_type + " has " +
                      std::to_string(rows[j].predicted_mean.size()) + " predicted gene means, expected " +
                      std::to_string(r.real_mean.size()));
        const double d = distance(r.real_mean, rows[j].predicted_mean);
        closer += d < own ? 1.0 : d == own ? 0.5 : 0.0;
      }
      rows[i].metrics["type_rank"] = closer / static_cast<double>(members.size() - 1);
    }
  }
}

SummaryTable summarize(const std::vector<ResultRow>& rows, bool show_perturbed, const std::string& preface) {
  // (model, type, perturbed) -> per-column sums over seeds; model order as first seen.
  using Key = std::tuple<std::string, std::string, std::string>;
  std::map<Key, std::vector<std::vector<double>>> groups;
  std::vector<Key> order;
  std::vector<std::string> models;
  std::map<std::string, std::string> decode_of;
  for (const auto& r : rows) {
    decode_of.emplace(r.model, r.decode);
    const Key k{r.model, r.cell_type, r.perturbed};
    if (!groups.count(k)) order.push_back(k);
    if (std::find(models.begin(), models.end(), r.model) == models.end()) models.push_back(r.model);
    std::vector<double> v;
    for (const auto& c : kColumns) v.push_back(value_of(r.metrics, c.key));
    groups[k].push_back(v);
  }
  auto mean_of = [](const std::vector<std::vector<double>>& vs, size_t c) {
    double s = 0;
    int n = 0;
    for (const auto& v : vs)
      if (std::isfinite(v[c])) {
        s += v[c];
        ++n;
      }
    return n ? s / n : NAN;
  };
  std::ostringstream md, csv;
  md << preface;
  md << "| model | cell type |" << (show_perturbed ? " perturbed |" : "") << " seeds |";
  csv << "model,cell_type," << (show_perturbed ? "perturbed," : "") << "seeds";
  for (const auto& c : kColumns) {
    md << " " << c.title << " |";
    csv << "," << c.key;
  }
  csv << ",decode";
  md << "\n|---|---|" << (show_perturbed ? "---|" : "") << "---|";
  for (size_t i = 0; i < std::size(kColumns); ++i) md << "---|";
  md << "\n";
  csv << "\n";
  for (const auto& model : models) {
    std::vector<std::vector<double>> type_means;
    for (const auto& k : order) {
      if (std::get<0>(k) != model) continue;
      const auto& g = groups[k];
      std::vector<double> means;
      for (size_t c = 0; c < std::size(kColumns); ++c) means.push_back(mean_of(g, c));
      type_means.push_back(means);
      md << "| " << model << " | " << std::get<1>(k) << " |" << (show_perturbed ? " " + std::get<2>(k) + " |" : "")
         << " " << g.size() << " |";
      csv << model << "," << std::get<1>(k) << "," << (show_perturbed ? std::get<2>(k) + "," : "") << g.size();
      for (size_t c = 0; c < std::size(kColumns); ++c) {
        md << " " << fmt(kColumns[c].format, means[c]) << " |";
        csv << "," << (std::isfinite(means[c]) ? std::to_string(means[c]) : "nan");
      }
      csv << "," << decode_of[model];
      md << "\n";
      csv << "\n";
    }
    md << "| **" << model << "** | **mean** |" << (show_perturbed ? " |" : "") << " |";
    csv << model << ",mean," << (show_perturbed ? "," : "");
    for (size_t c = 0; c < std::size(kColumns); ++c) {
      const double m = mean_of(type_means, c);
      md << " **" << fmt(kColumns[c].format, m) << "** |";
      csv << "," << (std::isfinite(m) ? std::to_string(m) : "nan");
    }
    csv << "," << decode_of[model];
    md << "\n";
    csv << "\n";
  }
  return {md.str(), csv.str()};
}

}  // namespace cg::perturb
