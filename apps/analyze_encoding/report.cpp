#include "apps/analyze_encoding/report.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "apps/analyze_encoding/plots.h"
#include "apps/common/run_notes.h"
#include "base/text.h"

namespace cg::encoding {
namespace {

double get(const nlohmann::json& j, const std::vector<std::string>& path) {
  const nlohmann::json* p = &j;
  for (const auto& k : path) {
    if (!p->is_object() || !p->contains(k)) return NAN;
    p = &(*p)[k];
  }
  return p->is_number() ? p->get<double>() : NAN;
}

std::string fmt(double v, const char* f = "%.3f") {
  if (!std::isfinite(v)) return "";
  char b[32];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

struct TableColumn {
  std::string title;
  std::vector<std::string> path;
  const char* format;
};

std::vector<TableColumn> columns(const CellData& d, const std::vector<EncodingResult>& results) {
  std::vector<TableColumn> c = {
      {"within-type mean", {"within_type", "mean"}, "%.3f"},
      {"within-type median", {"within_type", "median"}, "%.3f"},
      {"between-type mean", {"between_type", "mean"}, "%.3f"},
      {"between-type median", {"between_type", "median"}, "%.3f"},
      {"AUROC same type", {"auroc_same_type"}, "%.4f"},
      {"kNN purity", {"knn", "purity"}, "%.3f"},
      {"kNN accuracy (LOO)", {"knn", "accuracy_leave_one_out"}, "%.3f"},
  };
  if (!d.batches.code.empty()) {
    c.push_back({"other-batch share", {"batch_mixing", "observed"}, "%.3f"});
    c.push_back({"chance share", {"batch_mixing", "expected"}, "%.3f"});
    c.push_back({"mixing / chance", {"batch_mixing", "ratio"}, "%.3f"});
  }
  c.push_back({"genes tied at bottom", {"lost", "bottom_tied_share"}, "%.3f"});
  c.push_back({"tied genes per cell", {"lost", "tied_genes"}, "%.1f"});
  c.push_back({"log10 arbitrary orderings", {"lost", "log10_orderings"}, "%.1f"});
  c.push_back({"value R2 (median cell)", {"lost", "value_r2_median"}, "%.3f"});
  bool deg = false;
  for (const auto& r : results) deg |= r.metrics.contains("degs_changed");
  if (!deg && !d.condition.empty()) deg = true;
  if (deg) {
    c.push_back({"top DEGs changed", {"degs_changed", "total", "changed"}, "%.0f"});
    c.push_back({"of", {"degs_changed", "total", "degs"}, "%.0f"});
  }
  c.push_back({"seconds", {"seconds", "similarity"}, "%.1f"});
  return c;
}

std::string csv_number(double v) {
  if (!std::isfinite(v)) return "";
  char b[40];
  std::snprintf(b, sizeof b, "%.10g", v);
  return b;
}

}  // namespace

std::string table_markdown(const std::vector<EncodingResult>& results, const CellData& d) {
  const auto cols = columns(d, results);
  std::ostringstream os;
  os << "| encoding | similarity |";
  for (const auto& c : cols) os << " " << c.title << " |";
  os << "\n|---|---|";
  for (size_t i = 0; i < cols.size(); ++i) os << "---:|";
  os << "\n";
  for (const auto& r : results) {
    os << "| " << r.name << " | " << r.similarity << " |";
    for (const auto& c : cols) os << " " << fmt(get(r.metrics, c.path), c.format) << " |";
    os << "\n";
  }
  return os.str();
}

void write_outputs(const apps::RunFolder& run, const Config& c, const CellData& d,
                   const std::vector<EncodingResult>& results, const nlohmann::json& header) {
  const auto cols = columns(d, results);
  // table.md, table.csv
  std::string md = "# analyze_encoding: " + std::to_string(d.labels.code.size()) + " cells, " +
                   std::to_string(d.genes.size()) + " genes, " + std::to_string(d.labels.names.size()) +
                   " types ('" + c.label_key + "')\n\n" + table_markdown(results, d) +
                   "\nSimilarity: Spearman for rank encodings (Pearson of average ranks), Pearson for log1p and bins, "
                   "cosine for pca. AUROC: pair similarity predicting same type (histogram of " +
                   std::to_string(results.empty() ? 0 : results[0].histogram.bins()) +
                   " bins over [-1, 1]; auroc_bound in metrics.json). kNN: k = " + std::to_string(c.neighbors) +
                   ". Value R2: per cell, values recovered from the encoding (metrics.json says how).\n";
  apps::write_text_file(run.path("table.md"), md);
  std::string csv = "encoding,similarity";
  for (const auto& col : cols) {
    std::string name;
    for (const auto& k : col.path) name += (name.empty() ? "" : ".") + k;
    csv += "," + csv_field(name);
  }
  csv += "\n";
  for (const auto& r : results) {
    csv += csv_field(r.name) + "," + r.similarity;
    for (const auto& col : cols) csv += "," + csv_number(get(r.metrics, col.path));
    csv += "\n";
  }
  apps::write_text_file(run.path("table.csv"), csv);

  // outliers.md, outliers.csv
  std::string omd = "# Outlier pairs\n\nPer encoding: cells of different types that are most similar, and cells of "
                    "the same type that are least similar (each cell's extreme partner, strongest first).\n\n"
                    "| encoding | kind | cell A | type A | cell B | type B | similarity |\n|---|---|---|---|---|---|---:|\n";
  std::string ocsv = "encoding,kind,cell_a,type_a,cell_b,type_b,similarity\n";
  for (const auto& r : results) {
    auto add = [&](const std::vector<omics::CellPair>& pairs, const std::string& kind) {
      for (const auto& p : pairs) {
        const std::string& a = d.cells[static_cast<size_t>(p.a)];
        const std::string& b = d.cells[static_cast<size_t>(p.b)];
        const std::string& ta = d.labels.names[static_cast<size_t>(d.labels.code[static_cast<size_t>(p.a)])];
        const std::string& tb = d.labels.names[static_cast<size_t>(d.labels.code[static_cast<size_t>(p.b)])];
        omd += "| " + r.name + " | " + kind + " | " + a + " | " + ta + " | " + b + " | " + tb + " | " +
               fmt(p.s, "%.4f") + " |\n";
        ocsv += csv_field(r.name) + "," + kind + "," + csv_field(a) + "," + csv_field(ta) + "," + csv_field(b) + "," +
                csv_field(tb) + "," + csv_number(p.s) + "\n";
      }
    };
    add(r.closest_other, "different types, high");
    add(r.farthest_same, "same type, low");
  }
  apps::write_text_file(run.path("outliers.md"), omd);
  apps::write_text_file(run.path("outliers.csv"), ocsv);

  // Pictures: similarity histograms per encoding, kNN bars, mixing bars.
  for (const auto& r : results) {
    double lo = 1, hi = -1;
    for (bool same : {true, false}) {
      const auto s = r.histogram.summary(same);
      if (s.pairs == 0) continue;
      const auto& counts = r.histogram.counts(same);
      for (size_t b = 0; b < counts.size(); ++b)
        if (counts[b]) {
          lo = std::min(lo, -1 + double(b) * r.histogram.bin_width());
          hi = std::max(hi, -1 + double(b + 1) * r.histogram.bin_width());
        }
    }
    if (!(hi > lo)) {
      lo = -1;
      hi = 1;
    }
    HistogramPlot p;
    p.title = r.name + ": " + r.similarity + " of cell pairs";
    p.x_label = r.similarity + " similarity";
    p.lo = lo;
    p.hi = hi;
    const int nb = 80;
    for (bool same : {true, false}) {
      const auto counts = r.histogram.coarse(same, nb, lo, hi);
      const auto s = r.histogram.summary(same);
      HistogramSeries se{same ? "same type" : "different types", same ? "#e15759" : "#4e79a7", {}};
      for (int64_t k : counts) se.density.push_back(s.pairs ? double(k) / double(s.pairs) / ((hi - lo) / nb) : 0);
      p.series.push_back(se);
    }
    p.note = "AUROC (similarity predicts same type) " + fmt(get(r.metrics, {"auroc_same_type"}), "%.4f") +
             "; medians " + fmt(get(r.metrics, {"within_type", "median"})) + " vs " +
             fmt(get(r.metrics, {"between_type", "median"}));
    apps::write_text_file(run.path("similarity_" + r.name + ".svg"), render_histogram_svg(p));
  }
  BarPlot knn;
  knn.title = "kNN (k = " + std::to_string(c.neighbors) + ") label purity and leave-one-out accuracy";
  knn.y_label = "share";
  BarSeries purity{"purity", "#4e79a7", {}}, accuracy{"accuracy", "#f28e2b", {}};
  for (const auto& r : results) {
    knn.groups.push_back(r.name);
    purity.values.push_back(get(r.metrics, {"knn", "purity"}));
    accuracy.values.push_back(get(r.metrics, {"knn", "accuracy_leave_one_out"}));
  }
  knn.series = {purity, accuracy};
  apps::write_text_file(run.path("knn.svg"), render_bars_svg(knn));
  if (!d.batches.code.empty()) {
    BarPlot mix;
    mix.title = "Batch mixing within type: neighbours from another batch ('" + c.batch_key + "')";
    mix.y_label = "share of same-type neighbours";
    BarSeries obs{"observed", "#59a14f", {}}, chance{"chance", "#bab0ac", {}};
    for (const auto& r : results) {
      mix.groups.push_back(r.name);
      obs.values.push_back(get(r.metrics, {"batch_mixing", "observed"}));
      chance.values.push_back(get(r.metrics, {"batch_mixing", "expected"}));
    }
    mix.series = {obs, chance};
    mix.note = "chance: the share of the other cells of the same type that come from another batch";
    apps::write_text_file(run.path("batch_mixing.svg"), render_bars_svg(mix));
  }

  nlohmann::json metrics = header;
  for (const auto& r : results) metrics["encodings"][r.name] = r.metrics;
  metrics["warnings"] = apps::run_notes();
  apps::write_text_file(run.path("metrics.json"), metrics.dump(1) + "\n");
}

}  // namespace cg::encoding
