#pragma once
// Minimal SVG charts for run folders: no plotting library is packaged for C++ here, and SVG
// opens in any browser. Three kinds: a scatter with highlighted, labelled points (per-gene
// means, predicted vs real), line series (loss curves), and a scatter coloured by category
// (a 2-D PCA of a latent space). Axes carry ticks at round values; labels never overlap.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace cg::apps {

struct ScatterPlot {
  std::string title, x_label, y_label;
  std::vector<double> x, y;
  std::vector<size_t> highlighted;  // indices drawn on top in red
  // Optional text for highlighted points (same order, strongest first: where labels crowd, the
  // earlier ones are placed and the later ones left out, which the note then says).
  std::vector<std::string> labels;
  bool diagonal = true;  // draw y = x
  std::string note;      // e.g. "R^2 = 0.95"
};

struct LineSeries {
  std::string name;
  std::vector<double> y;  // one value per step (x = 1, 2, ...); NaN values are gaps
};
struct LinePlot {
  std::string title, x_label, y_label;
  std::vector<LineSeries> series;
  bool log_y = false;  // a log axis labelled in data units (values <= 0 are gaps)
  int marked_x = 0;    // a dashed vertical line labelled "best epoch N" at x = N; 0: none
};

struct CategoryScatter {
  std::string title, x_label, y_label;
  std::vector<double> x, y;
  std::vector<std::string> category;  // one per point
  // Also write each class's name at its median point. Turned on by itself when the classes
  // outnumber what two legend columns hold.
  bool direct_labels = false;
};

std::string render_svg(const ScatterPlot& p);
std::string render_svg(const LinePlot& p);
std::string render_svg(const CategoryScatter& p);

// ---- Building blocks of the charts, declared here so that tests can check them. --------------

// Ticks at round values inside [lo, hi]: multiples of a step of 1, 2 or 5 x 10^k chosen by
// Heckbert's "nice number" rounding of (hi - lo) / target. Each tick is the decimal value it
// names (0.6, not 3 * 0.2 = 0.6000000000000001). Empty when the range is empty or not finite.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);
// Ticks of a log axis over [lo, hi] (lo > 0): powers of ten (every n-th when there are many
// decades), with 2x and 5x added when fewer than three powers fall inside (so whenever the
// range is under two decades); a range too narrow for those gets nice_ticks.
std::vector<double> log_ticks(double lo, double hi);
// A linear tick's label: as many decimals as the step needs and no more ("0.2", "1.5", "2000"),
// scientific notation for very large or very small ticks ("1e-5", "2.5e6").
std::string tick_label(double value, double step);
// A log tick's label: the shortest decimal that reads back as the value ("0.05", "300", "1e-6").
std::string log_tick_label(double value);

// Natural order: digit runs compare as numbers ("Sst-MET-2" < "Sst-MET-10"), other characters
// case-insensitively; a strict weak order (ties are broken by plain comparison).
bool natural_less(const std::string& a, const std::string& b);

// The category palette: Tableau-10, a glasbey-like extension of 16 colours chosen far apart
// in CIELAB, then Tableau-20's lighter half; 36 colours, the first 30 at least 27 CIE76 units
// apart.
const std::vector<std::string>& category_palette();
// Each distinct category in natural order with its colour: the n-th class gets palette colour
// n mod 36 (a class's colour depends on the set of classes, never on the order of the points;
// past 36 the charts tell repeated colours apart by marker shape).
std::vector<std::pair<std::string, std::string>> category_colors(const std::vector<std::string>& category);

// A text label's box in SVG pixels (x right, y down; (x, y) is the top-left corner).
struct LabelBox {
  double x = 0, y = 0, w = 0, h = 0;
  bool overlaps(const LabelBox& o) const;
};
// The box a label of `chars` characters takes at `font_size` (a generous estimate of
// sans-serif widths, so that estimated boxes that do not overlap are drawn apart too).
LabelBox text_box(size_t chars, double font_size);
struct LabelPlacement {
  std::vector<bool> placed;     // per label
  std::vector<LabelBox> boxes;  // per label; meaningful where placed
  size_t left_out = 0;          // labels that found no free position
};
// Greedy placement in the given order: each label tries positions around its anchor point
// (right, left, above, below; at 4, 12, 24 and 40 px) and takes the first that stays inside `bounds`
// and overlaps neither a label placed before it nor an `obstacle`; a label with no such
// position is left out.
LabelPlacement place_labels(const std::vector<std::pair<double, double>>& anchors, const std::vector<LabelBox>& sizes,
                            const LabelBox& bounds, const std::vector<LabelBox>& obstacles = {});

// Text made safe inside SVG markup and single-quoted attributes.
std::string svg_escape(const std::string& s);

}  // namespace cg::apps
