#pragma once
// Minimal SVG charts for run folders: no plotting library is packaged for C++ here, and SVG
// opens in any browser. Three kinds: a scatter with highlighted, labelled points (per-gene
// means, predicted vs real), line series (loss curves), and a scatter coloured by category
// (a 2-D PCA of a latent space).
#include <string>
#include <vector>

namespace cg::apps {

struct ScatterPlot {
  std::string title, x_label, y_label;
  std::vector<double> x, y;
  std::vector<size_t> highlighted;  // indices drawn on top in red
  std::vector<std::string> labels;  // optional text for highlighted points (same order)
  bool diagonal = true;             // draw y = x
  std::string note;                 // e.g. "R^2 = 0.95"
};

struct LineSeries {
  std::string name;
  std::vector<double> y;  // one value per step (x = 1, 2, ...); NaN values are gaps
};
struct LinePlot {
  std::string title, x_label, y_label;
  std::vector<LineSeries> series;
  bool log_y = false;
};

struct CategoryScatter {
  std::string title, x_label, y_label;
  std::vector<double> x, y;
  std::vector<std::string> category;  // one per point
};

std::string render_svg(const ScatterPlot& p);
std::string render_svg(const LinePlot& p);
std::string render_svg(const CategoryScatter& p);

}  // namespace cg::apps
