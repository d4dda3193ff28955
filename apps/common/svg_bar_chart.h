#pragma once
// A grouped horizontal bar chart (one row per category, one bar per series side by side), for
// per-pathway comparisons such as real vs predicted response scores. Horizontal, because the
// category names (MSigDB ids like HALLMARK_INTERFERON_ALPHA_RESPONSE) are long and stay readable
// on the left; ticks, labels and colours are svg_plot's.
#include <string>
#include <vector>

namespace cg::apps {

struct BarSeries {
  std::string name;
  std::vector<double> values;  // one per category; NaN draws no bar
};
struct BarChart {
  std::string title, value_label;
  std::vector<std::string> categories;  // top to bottom
  std::vector<BarSeries> series;        // side by side within a category, in palette order
};

std::string render_svg(const BarChart& p);

}  // namespace cg::apps
