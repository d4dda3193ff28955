#include "apps/predict_perturbation/table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
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
    {"r2_top20", "R2 top-20", "%.3f"},
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

namespace {

// Mean and sample standard deviation of the finite values (sd NaN below two).
struct Spread {
  double mean = NAN, sd = NAN;
  int n = 0;
};
Spread spread_of(const std::vector<double>& v) {
  Spread s;
  double sum = 0;
  for (double x : v)
    if (std::isfinite(x)) {
      sum += x;
      ++s.n;
    }
  if (s.n == 0) return s;
  s.mean = sum / s.n;
  if (s.n < 2) return s;
  double ss = 0;
  for (double x : v)
    if (std::isfinite(x)) ss += (x - s.mean) * (x - s.mean);
  s.sd = std::sqrt(ss / (s.n - 1));
  return s;
}

// The two R^2 columns whose spread over seeds the table shows and the verdict compares.
const char* const kVerdictKeys[] = {"r2_all", "r2_top"};
size_t column_index(const char* key) {
  for (size_t c = 0; c < std::size(kColumns); ++c)
    if (std::string(kColumns[c].key) == key) return c;
  throw Error(std::string("table: no column ") + key);
}

// "beats" / "loses" when the difference of the means exceeds the seeds' spread (the two sds
// added; a baseline without training has none), "within spread" otherwise, "n/a" without values.
std::string verdict(const Spread& model, const Spread& baseline) {
  if (!std::isfinite(model.mean) || !std::isfinite(baseline.mean)) return "n/a";
  const double spread = (std::isfinite(model.sd) ? model.sd : 0.0) + (std::isfinite(baseline.sd) ? baseline.sd : 0.0);
  const double d = model.mean - baseline.mean;
  char b[64];
  std::snprintf(b, sizeof b, "%+.3f", d);
  if (model.n < 2 && spread == 0) return std::string(b) + " (one seed)";
  return std::string(b) + (d > spread ? " beats" : d < -spread ? " loses" : " within spread");
}

}  // namespace

SummaryTable summarize(const std::vector<ResultRow>& rows, bool show_perturbed, const std::string& preface) {
  // (model, type, perturbed) -> per-seed metric vectors; model order as first seen.
  using Key = std::tuple<std::string, std::string, std::string>;
  std::map<Key, std::vector<std::vector<double>>> groups;
  std::map<Key, std::vector<uint64_t>> seeds_of;
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
    seeds_of[k].push_back(r.seed);
  }
  auto column = [](const std::vector<std::vector<double>>& vs, size_t c) {
    std::vector<double> out;
    for (const auto& v : vs) out.push_back(v[c]);
    return out;
  };
  // Per seed, the mean over the model's types of one column (for the mean row's spread).
  auto per_seed_means = [&](const std::string& model, size_t c) {
    std::map<uint64_t, std::vector<double>> by_seed;
    for (const auto& k : order) {
      if (std::get<0>(k) != model) continue;
      const auto& g = groups[k];
      for (size_t i = 0; i < g.size(); ++i) by_seed[seeds_of[k][i]].push_back(g[i][c]);
    }
    std::vector<double> out;
    for (const auto& [seed, values] : by_seed) out.push_back(spread_of(values).mean);
    return out;
  };
  // The baseline every model is compared with: shift when present (the stronger), else control.
  std::string baseline;
  for (const char* b : {"shift", "control"})
    if (std::find(models.begin(), models.end(), b) != models.end()) {
      baseline = b;
      break;
    }
  const bool with_verdict = !baseline.empty();

  std::ostringstream md, csv;
  md << preface;
  if (with_verdict)
    md << "vs " << baseline << ": the difference of R2 means (all genes / top DEGs) from the " << baseline
       << " baseline on the same type; \"beats\" or \"loses\" only where it exceeds the seeds' spread (the two "
          "standard deviations added), else \"within spread\". seed sd: standard deviation over seeds.\n\n";
  md << "| model | cell type |" << (show_perturbed ? " perturbed |" : "") << " seeds |";
  csv << "model,cell_type," << (show_perturbed ? "perturbed," : "") << "seeds";
  for (size_t c = 0; c < std::size(kColumns); ++c) {
    md << " " << kColumns[c].title << " |";
    csv << "," << kColumns[c].key;
    for (const char* key : kVerdictKeys)
      if (std::string(kColumns[c].key) == key) {
        md << " (seed sd) |";
        csv << "," << key << "_seed_sd";
      }
  }
  if (with_verdict) {
    md << " vs " << baseline << " R2 all | vs " << baseline << " R2 top |";
    csv << ",vs_" << baseline << "_r2_all,vs_" << baseline << "_r2_top";
  }
  csv << ",decode";
  md << "\n|---|---|" << (show_perturbed ? "---|" : "") << "---|";
  const size_t extra = std::size(kVerdictKeys) + (with_verdict ? 2 : 0);
  for (size_t i = 0; i < std::size(kColumns) + extra; ++i) md << "---|";
  md << "\n";
  csv << "\n";

  auto cell = [](const char* format, double v) { return fmt(format, v); };
  auto csv_number = [](double v) { return std::isfinite(v) ? std::to_string(v) : std::string("nan"); };
  // One table row: means (and seed sds of the verdict columns), then the verdicts.
  auto write_row = [&](const std::string& label_md, const std::string& label_csv, const std::vector<Spread>& cols,
                       const std::vector<Spread>& base, const std::string& model, bool bold) {
    md << label_md;
    csv << label_csv;
    const std::string b = bold ? "**" : "";
    for (size_t c = 0; c < std::size(kColumns); ++c) {
      md << " " << b << cell(kColumns[c].format, cols[c].mean) << b << " |";
      csv << "," << csv_number(cols[c].mean);
      for (const char* key : kVerdictKeys)
        if (std::string(kColumns[c].key) == key) {
          md << " " << cell("%.3f", cols[c].sd) << " |";
          csv << "," << csv_number(cols[c].sd);
        }
    }
    if (with_verdict) {
      for (const char* key : kVerdictKeys) {
        const size_t c = column_index(key);
        const std::string v = model == baseline || base.empty() ? "" : verdict(cols[c], base[c]);
        md << " " << v << " |";
        csv << "," << v;
      }
    }
    csv << "," << decode_of[model];
    md << "\n";
    csv << "\n";
  };
  // The baseline's spreads per (type, perturbed), and for its mean row.
  std::map<std::pair<std::string, std::string>, std::vector<Spread>> baseline_of;
  for (const auto& k : order)
    if (std::get<0>(k) == baseline) {
      std::vector<Spread> cols;
      for (size_t c = 0; c < std::size(kColumns); ++c) cols.push_back(spread_of(column(groups[k], c)));
      baseline_of[{std::get<1>(k), std::get<2>(k)}] = cols;
    }
  std::vector<Spread> baseline_mean;  // its spread over seeds of the per-seed type means
  if (with_verdict)
    for (size_t c = 0; c < std::size(kColumns); ++c) baseline_mean.push_back(spread_of(per_seed_means(baseline, c)));
  for (const auto& model : models) {
    std::vector<std::vector<double>> type_means;
    std::set<std::pair<std::string, std::string>> types_of_model;
    for (const auto& k : order) {
      if (std::get<0>(k) != model) continue;
      const auto& g = groups[k];
      std::vector<Spread> cols;
      std::vector<double> means;
      for (size_t c = 0; c < std::size(kColumns); ++c) {
        cols.push_back(spread_of(column(g, c)));
        means.push_back(cols.back().mean);
      }
      type_means.push_back(means);
      types_of_model.insert({std::get<1>(k), std::get<2>(k)});
      const auto base = baseline_of.find({std::get<1>(k), std::get<2>(k)});
      write_row("| " + model + " | " + std::get<1>(k) + " |" + (show_perturbed ? " " + std::get<2>(k) + " |" : "") +
                    " " + std::to_string(g.size()) + " |",
                model + "," + std::get<1>(k) + "," + (show_perturbed ? std::get<2>(k) + "," : "") +
                    std::to_string(g.size()),
                cols, base == baseline_of.end() ? std::vector<Spread>{} : base->second, model, false);
    }
    // The mean row: the mean over types; the spread is over seeds of the per-seed type means.
    std::vector<Spread> cols;
    for (size_t c = 0; c < std::size(kColumns); ++c) {
      Spread s;
      s.mean = spread_of(column(type_means, c)).mean;
      const Spread over_seeds = spread_of(per_seed_means(model, c));
      s.sd = over_seeds.sd;
      s.n = over_seeds.n;
      cols.push_back(s);
    }
    // Compared with the baseline's mean over the same types only.
    std::vector<Spread> base;
    if (with_verdict && model != baseline) {
      for (size_t c = 0; c < std::size(kColumns); ++c) {
        std::vector<double> v;
        for (const auto& t : types_of_model) {
          const auto it = baseline_of.find(t);
          if (it != baseline_of.end()) v.push_back(it->second[c].mean);
        }
        Spread bs;
        bs.mean = v.size() == types_of_model.size() ? spread_of(v).mean : NAN;
        bs.sd = baseline_mean.empty() ? NAN : baseline_mean[c].sd;
        base.push_back(bs);
      }
    }
    write_row("| **" + model + "** | **mean** |" + (show_perturbed ? " |" : "") + " |",
              model + ",mean," + (show_perturbed ? "," : ""), cols, base, model, true);
  }
  return {md.str(), csv.str()};
}

}  // namespace cg::perturb
