#pragma once
// The study's two pictures, drawn as SVG with the shared axes helpers (apps/common/svg_plot.h):
// overlaid histograms (within-type vs between-type similarities of one encoding) and grouped
// bars (kNN purity and accuracy, batch mixing, per encoding).
#include <string>
#include <vector>

namespace cg::encoding {

struct HistogramSeries {
  std::string name, color;
  std::vector<double> density;  // per bin, over [lo, hi]
};
struct HistogramPlot {
  std::string title, x_label, y_label = "share of pairs per unit";
  double lo = -1, hi = 1;
  std::vector<HistogramSeries> series;
  std::string note;
};

struct BarSeries {
  std::string name, color;
  std::vector<double> values;  // one per group; NaN: no bar
};
struct BarPlot {
  std::string title, y_label;
  std::vector<std::string> groups;
  std::vector<BarSeries> series;
  double y_max = 1;
  std::string note;
};

std::string render_histogram_svg(const HistogramPlot& p);
std::string render_bars_svg(const BarPlot& p);

}  // namespace cg::encoding
