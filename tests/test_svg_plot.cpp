// apps/common/svg_plot: ticks at round values with clean labels, the natural order of class
// names, a palette that keeps many classes apart, labels that never overlap, and the best epoch
// marked on loss curves.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "apps/common/svg_plot.h"

using namespace cg::apps;

namespace {

// CIELAB (D65) of "#rrggbb", for the perceptual distance between palette colours.
std::array<double, 3> lab_of(const std::string& hex) {
  double rgb[3];
  for (int c = 0; c < 3; ++c) {
    const double v = std::stoi(hex.substr(1 + 2 * c, 2), nullptr, 16) / 255.0;
    rgb[c] = v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
  }
  const double X = (0.4124 * rgb[0] + 0.3576 * rgb[1] + 0.1805 * rgb[2]) / 0.95047;
  const double Y = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  const double Z = (0.0193 * rgb[0] + 0.1192 * rgb[1] + 0.9505 * rgb[2]) / 1.08883;
  auto f = [](double t) { return t > 0.008856 ? std::cbrt(t) : 7.787 * t + 16.0 / 116; };
  return {116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))};
}

double delta_e(const std::string& a, const std::string& b) {
  const auto p = lab_of(a), q = lab_of(b);
  return std::sqrt((p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) + (p[2] - q[2]) * (p[2] - q[2]));
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("svg_plot: linear ticks are 1, 2, 5 x 10^k steps and name exact decimals") {
  // Exact comparisons on purpose: 3 x 0.2 in floating point is 0.6000000000000001, and a tick
  // must be the double nearest the decimal it names.
  CHECK(nice_ticks(0, 1) == std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1});
  CHECK(nice_ticks(0.013, 0.087) == std::vector<double>{0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08});
  CHECK(nice_ticks(3, 2870) == std::vector<double>{500, 1000, 1500, 2000, 2500});
  CHECK(nice_ticks(-12.3, 8.7) == std::vector<double>{-10, -5, 0, 5});
  CHECK(nice_ticks(3, 4) == std::vector<double>{3, 3.2, 3.4, 3.6, 3.8, 4});
  CHECK(nice_ticks(1e-7, 5e-7) == std::vector<double>{1e-7, 2e-7, 3e-7, 4e-7, 5e-7});
  // Nothing to tick on an empty or broken range.
  CHECK(nice_ticks(1, 1).empty());
  CHECK(nice_ticks(2, 1).empty());
  CHECK(nice_ticks(0, NAN).empty());
}

TEST_CASE("svg_plot: log ticks at powers of ten, with 2x and 5x under two decades") {
  CHECK(log_ticks(0.05, 300) == std::vector<double>{0.1, 1, 10, 100});
  CHECK(log_ticks(0.3, 20) == std::vector<double>{0.5, 1, 2, 5, 10, 20});
  // Just over two decades but only two powers inside: 2x and 5x still, or two labels would be all.
  CHECK(log_ticks(3.6, 380) == std::vector<double>{5, 10, 20, 50, 100, 200});
  CHECK(log_ticks(1, 100) == std::vector<double>{1, 10, 100});
  // Sixteen decades: every third power, not seventeen crowded labels.
  CHECK(log_ticks(1e-8, 1e8) == std::vector<double>{1e-6, 1e-3, 1, 1e3, 1e6});
  // Too narrow for even two of 1, 2, 5 x 10^k: linear nice ticks instead.
  CHECK(log_ticks(3, 4) == std::vector<double>{3, 3.2, 3.4, 3.6, 3.8, 4});
  CHECK(log_ticks(0, 10).empty());
}

TEST_CASE("svg_plot: tick labels carry the decimals the step needs and no noise") {
  CHECK(tick_label(0.6000000000000001, 0.2) == "0.6");
  CHECK(tick_label(0, 0.2) == "0.0");
  CHECK(tick_label(1, 0.2) == "1.0");
  CHECK(tick_label(0.05, 0.01) == "0.05");
  CHECK(tick_label(0.19999999999999998, 0.01) == "0.20");
  CHECK(tick_label(2000, 500) == "2000");
  CHECK(tick_label(-5, 5) == "-5");
  CHECK(tick_label(3e-5, 1e-5) == "3e-5");
  CHECK(tick_label(2.5e7, 5e6) == "2.5e7");
  CHECK(log_tick_label(0.05) == "0.05");
  CHECK(log_tick_label(300) == "300");
  CHECK(log_tick_label(1e-6) == "1e-6");
  CHECK(log_tick_label(1e7) == "1e7");
}

TEST_CASE("svg_plot: class names in natural order (digit runs compare as numbers)") {
  std::vector<std::string> names = {"Sst-MET-10", "Sst-MET-2", "Lamp5", "Sst-MET-1",
                                    "L6 IT",      "L2/3 IT",   "L10",   "Sst-MET-13"};
  std::sort(names.begin(), names.end(), natural_less);
  CHECK(names == std::vector<std::string>{"L2/3 IT", "L6 IT", "L10", "Lamp5", "Sst-MET-1", "Sst-MET-2", "Sst-MET-10",
                                          "Sst-MET-13"});
  CHECK(natural_less("Sst-MET-2", "Sst-MET-10"));
  CHECK_FALSE(natural_less("Sst-MET-10", "Sst-MET-2"));
  CHECK(natural_less("x3", "x99999999999999999999999"));  // longer than 64 bits: still a number
  CHECK(natural_less("sst", "Vip"));                      // letters ignore case
  CHECK(natural_less("abc", "abc1"));                     // a prefix first
  // A strict weak order even for names equal but for case or leading zeros.
  CHECK_FALSE(natural_less("a1", "a1"));
  CHECK(natural_less("a01", "a1") != natural_less("a1", "a01"));
  CHECK(natural_less("A", "a") != natural_less("a", "A"));
}

TEST_CASE("svg_plot: the palette keeps 30+ classes apart and colours follow the set of classes") {
  const auto& pal = category_palette();
  REQUIRE(pal.size() >= 30);
  CHECK(std::set<std::string>(pal.begin(), pal.end()).size() == pal.size());
  // Distinct strings are not enough: the colours must look different. CIE76 distance ~2.3 is
  // a just-noticeable difference; Tableau-20's closest pair is ~17 apart.
  double min_first30 = 1e9, min_all = 1e9, min_white = 1e9;
  for (size_t i = 0; i < pal.size(); ++i) {
    REQUIRE(pal[i].size() == 7);
    min_white = std::min(min_white, delta_e(pal[i], "#ffffff"));
    for (size_t j = i + 1; j < pal.size(); ++j) {
      const double d = delta_e(pal[i], pal[j]);
      min_all = std::min(min_all, d);
      if (j < 30) min_first30 = std::min(min_first30, d);
    }
  }
  CHECK(min_first30 > 25);
  CHECK(min_all > 15);
  CHECK(min_white > 15);  // every colour shows on the white background

  std::vector<std::string> points;
  for (int c = 36; c >= 1; --c)
    for (int rep = 0; rep < 3; ++rep) points.push_back("type-" + std::to_string(c));
  const auto colors = category_colors(points);
  REQUIRE(colors.size() == 36);
  CHECK(colors[0].first == "type-1");
  CHECK(colors[1].first == "type-2");
  CHECK(colors[35].first == "type-36");
  std::set<std::string> used;
  for (const auto& [name, c] : colors) used.insert(c);
  CHECK(used.size() == 36);  // 36 classes, 36 colours
  // The points in another order give every class the same colour.
  std::vector<std::string> shuffled(points.rbegin(), points.rend());
  std::rotate(shuffled.begin(), shuffled.begin() + 17, shuffled.end());
  CHECK(category_colors(shuffled) == colors);
}

TEST_CASE("svg_plot: CategoryScatter legend in natural order; many classes get two columns, then direct labels") {
  CategoryScatter p;
  p.title = "latent";
  for (int c = 1; c <= 12; ++c)
    for (int i = 0; i < 5; ++i) {
      p.x.push_back(c * 10 + i);
      p.y.push_back(c);
      p.category.push_back("Sst-MET-" + std::to_string(c));
    }
  std::string svg = render_svg(p);
  CHECK(svg.find(">Sst-MET-2<") < svg.find(">Sst-MET-10<"));
  CHECK(svg.find("more (see labels)") == std::string::npos);
  CHECK(count_of(svg, "stroke='white' stroke-width='2.5'") == 0);  // no direct labels unless asked

  p.direct_labels = true;
  svg = render_svg(p);
  CHECK(count_of(svg, ">Sst-MET-7<") == 2);  // in the legend and at the class's median point

  // 80 classes: more than two legend columns hold, so the plot labels classes by itself.
  p.direct_labels = false;
  p.x.clear();
  p.y.clear();
  p.category.clear();
  for (int c = 0; c < 80; ++c) {
    p.x.push_back(c % 9);
    p.y.push_back(c / 9);
    p.category.push_back("c" + std::to_string(c));
  }
  svg = render_svg(p);
  CHECK(svg.find("more (see labels)") != std::string::npos);
  CHECK(count_of(svg, "stroke='white' stroke-width='2.5'") > 0);
}

TEST_CASE("svg_plot: greedy label placement leaves no two labels overlapping in a dense cluster") {
  const LabelBox bounds{70, 40, 410, 385};
  std::vector<std::pair<double, double>> anchors;
  std::vector<LabelBox> sizes;
  for (int i = 0; i < 50; ++i) {
    // 50 points within a 20 x 20 pixel patch in the middle of the plot.
    anchors.emplace_back(265 + (i * 7) % 20, 222 + (i * 13) % 20);
    sizes.push_back(text_box(("GENE" + std::to_string(i)).size(), 10));
  }
  const LabelBox obstacle{250, 150, 40, 20};
  const LabelPlacement r = place_labels(anchors, sizes, bounds, {obstacle});
  size_t placed = 0;
  for (size_t i = 0; i < 50; ++i) {
    if (!r.placed[i]) continue;
    ++placed;
    const LabelBox& b = r.boxes[i];
    CHECK(b.x >= bounds.x);
    CHECK(b.y >= bounds.y);
    CHECK(b.x + b.w <= bounds.x + bounds.w);
    CHECK(b.y + b.h <= bounds.y + bounds.h);
    CHECK_FALSE(b.overlaps(obstacle));
    for (size_t j = i + 1; j < 50; ++j)
      if (r.placed[j]) CHECK_FALSE(b.overlaps(r.boxes[j]));
  }
  CHECK(placed + r.left_out == 50);
  CHECK(placed >= 10);      // the greedy search does find room around the cluster
  CHECK(r.left_out >= 10);  // and 50 labels around one small patch cannot all fit
  CHECK(r.placed[0]);       // the first (strongest) label always gets a place when there is room

  // Apart, every label is placed.
  const LabelPlacement sparse =
      place_labels({{100, 100}, {300, 200}, {400, 380}}, {sizes[0], sizes[1], sizes[2]}, bounds);
  CHECK(sparse.left_out == 0);
  CHECK(sparse.placed == std::vector<bool>{true, true, true});
}

TEST_CASE("svg_plot: ScatterPlot says how many labels it left out") {
  ScatterPlot p;
  p.note = "R^2 = 0.95";
  for (int i = 0; i < 200; ++i) {
    p.x.push_back(i * 0.01);
    p.y.push_back(i * 0.01);
  }
  for (size_t i = 0; i < 50; ++i) {
    p.highlighted.push_back(100 + i % 5);  // 50 labels on 5 neighbouring points
    p.labels.push_back("GENE" + std::to_string(i));
  }
  std::string svg = render_svg(p);
  CHECK(svg.find(">R^2 = 0.95</text>") != std::string::npos);
  CHECK(svg.find(" of 50 labels left out (no room)</text>") != std::string::npos);
  CHECK(svg.find(">GENE0<") != std::string::npos);  // the strongest label is drawn

  p.highlighted = {10, 100, 190};
  p.labels = {"A", "B", "C"};
  svg = render_svg(p);
  CHECK(svg.find("left out") == std::string::npos);
  CHECK(svg.find(">C<") != std::string::npos);
}

TEST_CASE("svg_plot: LinePlot marks the best epoch and labels a log axis in data units") {
  LinePlot p;
  p.title = "loss";
  p.log_y = true;
  LineSeries s{"train_loss", {}};
  for (int e = 1; e <= 40; ++e) s.y.push_back(300.0 / (e * e * e) + 0.05);  // 300 down to 0.055
  p.series.push_back(s);
  std::string svg = render_svg(p);
  CHECK(svg.find("best epoch") == std::string::npos);  // 0: no mark
  CHECK(svg.find(">0.1</text>") != std::string::npos);
  CHECK(svg.find(">100</text>") != std::string::npos);
  CHECK(svg.find(">20</text>") != std::string::npos);  // an x tick, an integer epoch
  CHECK(svg.find(">2.5</text>") == std::string::npos);

  p.marked_x = 7;
  svg = render_svg(p);
  CHECK(svg.find(">best epoch 7</text>") != std::string::npos);
  CHECK(svg.find("stroke-dasharray='5 4'") != std::string::npos);
}
