#include "apps/common/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

namespace cg::apps {
namespace {

constexpr double W = 640, H = 480, L = 70, R = 160, T = 40, B = 55;  // canvas and margins

const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                          "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39",
                          "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363"};

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else o += c;
  }
  return o;
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

struct Axes {
  double x0, x1, y0, y1;
  double px(double x) const { return L + (x - x0) / (x1 - x0) * (W - L - R); }
  double py(double y) const { return H - B - (y - y0) / (y1 - y0) * (H - T - B); }
};

void range_of(const std::vector<double>& v, double& lo, double& hi) {
  lo = INFINITY;
  hi = -INFINITY;
  for (double a : v)
    if (std::isfinite(a)) {
      lo = std::min(lo, a);
      hi = std::max(hi, a);
    }
  if (!std::isfinite(lo)) {
    lo = 0;
    hi = 1;
  }
  if (hi - lo < 1e-12) {
    lo -= 0.5;
    hi += 0.5;
  }
  const double pad = 0.04 * (hi - lo);
  lo -= pad;
  hi += pad;
}

void frame(std::ostringstream& os, const Axes& a, const std::string& title, const std::string& xl,
           const std::string& yl) {
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H
     << "' font-family='sans-serif' font-size='12'>\n"
     << "<rect width='100%' height='100%' fill='white'/>\n"
     << "<text x='" << (W - R + L) / 2 << "' y='22' text-anchor='middle' font-size='15'>" << esc(title) << "</text>\n"
     << "<rect x='" << L << "' y='" << T << "' width='" << W - L - R << "' height='" << H - T - B
     << "' fill='none' stroke='black'/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double xv = a.x0 + (a.x1 - a.x0) * i / 4, yv = a.y0 + (a.y1 - a.y0) * i / 4;
    os << "<text x='" << a.px(xv) << "' y='" << H - B + 16 << "' text-anchor='middle'>" << num(xv) << "</text>\n"
       << "<text x='" << L - 6 << "' y='" << a.py(yv) + 4 << "' text-anchor='end'>" << num(yv) << "</text>\n";
  }
  os << "<text x='" << (W - R + L) / 2 << "' y='" << H - 12 << "' text-anchor='middle'>" << esc(xl) << "</text>\n"
     << "<text transform='translate(16," << (H - B + T) / 2 << ") rotate(-90)' text-anchor='middle'>" << esc(yl)
     << "</text>\n";
}

}  // namespace

std::string render_svg(const ScatterPlot& p) {
  double x0, x1, y0, y1;
  range_of(p.x, x0, x1);
  range_of(p.y, y0, y1);
  if (p.diagonal) {
    x0 = y0 = std::min(x0, y0);
    x1 = y1 = std::max(x1, y1);
  }
  const Axes a{x0, x1, y0, y1};
  std::ostringstream os;
  frame(os, a, p.title, p.x_label, p.y_label);
  if (p.diagonal)
    os << "<line x1='" << a.px(x0) << "' y1='" << a.py(x0) << "' x2='" << a.px(x1) << "' y2='" << a.py(x1)
       << "' stroke='#999' stroke-dasharray='4 3'/>\n";
  for (size_t i = 0; i < p.x.size(); ++i)
    if (std::isfinite(p.x[i]) && std::isfinite(p.y[i]))
      os << "<circle cx='" << a.px(p.x[i]) << "' cy='" << a.py(p.y[i])
         << "' r='1.8' fill='#555' fill-opacity='0.5'/>\n";
  for (size_t k = 0; k < p.highlighted.size(); ++k) {
    const size_t i = p.highlighted[k];
    if (i >= p.x.size()) continue;
    os << "<circle cx='" << a.px(p.x[i]) << "' cy='" << a.py(p.y[i]) << "' r='3' fill='#d62728'/>\n";
    if (k < p.labels.size() && k < 12)  // label the strongest few; more would be unreadable
      os << "<text x='" << a.px(p.x[i]) + 4 << "' y='" << a.py(p.y[i]) - 4 << "' font-size='10' fill='#d62728'>"
         << esc(p.labels[k]) << "</text>\n";
  }
  if (!p.note.empty()) os << "<text x='" << L + 8 << "' y='" << T + 18 << "'>" << esc(p.note) << "</text>\n";
  os << "</svg>\n";
  return os.str();
}

std::string render_svg(const LinePlot& p) {
  std::vector<double> all;
  size_t steps = 1;
  for (const auto& s : p.series) {
    steps = std::max(steps, s.y.size());
    for (double v : s.y) all.push_back(p.log_y ? (v > 0 ? std::log10(v) : NAN) : v);
  }
  double y0, y1;
  range_of(all, y0, y1);
  const Axes a{1, static_cast<double>(std::max<size_t>(steps, 2)), y0, y1};
  std::ostringstream os;
  frame(os, a, p.title, p.x_label, p.log_y ? "log10 " + p.y_label : p.y_label);
  for (size_t k = 0; k < p.series.size(); ++k) {
    const auto& s = p.series[k];
    const char* color = kPalette[k % 20];
    std::ostringstream path;
    bool pen_down = false;
    for (size_t i = 0; i < s.y.size(); ++i) {
      const double v = p.log_y ? (s.y[i] > 0 ? std::log10(s.y[i]) : NAN) : s.y[i];
      if (!std::isfinite(v)) {
        pen_down = false;
        continue;
      }
      path << (pen_down ? " L" : " M") << a.px(static_cast<double>(i + 1)) << " " << a.py(v);
      pen_down = true;
    }
    os << "<path d='" << path.str() << "' fill='none' stroke='" << color << "' stroke-width='1.6'/>\n"
       << "<rect x='" << W - R + 10 << "' y='" << T + 16 * k << "' width='12' height='3' fill='" << color << "'/>\n"
       << "<text x='" << W - R + 26 << "' y='" << T + 16 * k + 5 << "'>" << esc(s.name) << "</text>\n";
  }
  os << "</svg>\n";
  return os.str();
}

std::string render_svg(const CategoryScatter& p) {
  double x0, x1, y0, y1;
  range_of(p.x, x0, x1);
  range_of(p.y, y0, y1);
  const Axes a{x0, x1, y0, y1};
  std::map<std::string, size_t> color_of;
  for (const auto& c : p.category) color_of.emplace(c, 0);
  size_t k = 0;
  for (auto& [c, idx] : color_of) idx = k++;
  std::ostringstream os;
  frame(os, a, p.title, p.x_label, p.y_label);
  for (size_t i = 0; i < p.x.size(); ++i)
    os << "<circle cx='" << a.px(p.x[i]) << "' cy='" << a.py(p.y[i]) << "' r='2.2' fill='"
       << kPalette[color_of[p.category[i]] % 20] << "' fill-opacity='0.75'/>\n";
  k = 0;
  for (const auto& [c, idx] : color_of) {
    if (k >= 28) break;  // legend space
    os << "<circle cx='" << W - R + 14 << "' cy='" << T + 14 * k << "' r='4' fill='" << kPalette[idx % 20] << "'/>\n"
       << "<text x='" << W - R + 24 << "' y='" << T + 14 * k + 4 << "' font-size='10'>" << esc(c) << "</text>\n";
    ++k;
  }
  os << "</svg>\n";
  return os.str();
}

}  // namespace cg::apps
