#include "apps/analyze_encoding/plots.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "apps/common/svg_plot.h"

namespace cg::encoding {
namespace {

std::string esc(const std::string& s) { return apps::svg_escape(s); }

// The frame: title, axes with ticks, labels; maps data to pixels.
struct Frame {
  double w = 640, h = 400, l = 64, r = 150, t = 40, b = 56;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  double px(double x) const { return l + (x - x0) / (x1 - x0) * (w - l - r); }
  double py(double y) const { return h - b - (y - y0) / (y1 - y0) * (h - t - b); }
};

void open_svg(std::ostringstream& os, const Frame& f, const std::string& title) {
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='" << f.w << "' height='" << f.h
     << "' font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n"
     << "<text x='" << (f.l + (f.w - f.r)) / 2 << "' y='22' text-anchor='middle' font-size='15'>" << esc(title)
     << "</text>\n";
}

void y_axis(std::ostringstream& os, const Frame& f, const std::string& label) {
  const auto ticks = apps::nice_ticks(f.y0, f.y1);
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  for (double v : ticks) {
    os << "<line x1='" << f.l << "' x2='" << f.w - f.r << "' y1='" << f.py(v) << "' y2='" << f.py(v)
       << "' stroke='#eee'/>\n<text x='" << f.l - 6 << "' y='" << f.py(v) + 4 << "' text-anchor='end'>"
       << apps::tick_label(v, step) << "</text>\n";
  }
  os << "<line x1='" << f.l << "' x2='" << f.l << "' y1='" << f.t << "' y2='" << f.h - f.b << "' stroke='black'/>\n"
     << "<line x1='" << f.l << "' x2='" << f.w - f.r << "' y1='" << f.h - f.b << "' y2='" << f.h - f.b
     << "' stroke='black'/>\n"
     << "<text transform='translate(16," << (f.t + f.h - f.b) / 2 << ") rotate(-90)' text-anchor='middle'>"
     << esc(label) << "</text>\n";
}

void legend(std::ostringstream& os, const Frame& f, const std::vector<std::pair<std::string, std::string>>& items) {
  double y = f.t + 8;
  for (const auto& [name, color] : items) {
    os << "<rect x='" << f.w - f.r + 12 << "' y='" << y - 9 << "' width='12' height='12' fill='" << color
       << "' fill-opacity='0.7'/>\n<text x='" << f.w - f.r + 30 << "' y='" << y + 1 << "'>" << esc(name)
       << "</text>\n";
    y += 18;
  }
}

void footnote(std::ostringstream& os, const Frame& f, const std::string& note) {
  if (!note.empty())
    os << "<text x='" << f.l << "' y='" << f.h - 8 << "' font-size='11' fill='#444'>" << esc(note) << "</text>\n";
}

}  // namespace

std::string render_histogram_svg(const HistogramPlot& p) {
  Frame f;
  f.x0 = p.lo;
  f.x1 = p.hi > p.lo ? p.hi : p.lo + 1;
  double top = 0;
  for (const auto& s : p.series)
    for (double v : s.density)
      if (std::isfinite(v)) top = std::max(top, v);
  const auto yt = apps::nice_ticks(0, top > 0 ? top * 1.05 : 1);
  f.y0 = 0;
  f.y1 = yt.empty() ? 1 : std::max(top * 1.05, yt.back());
  std::ostringstream os;
  open_svg(os, f, p.title);
  y_axis(os, f, p.y_label);
  const auto xt = apps::nice_ticks(f.x0, f.x1);
  const double step = xt.size() > 1 ? xt[1] - xt[0] : 1;
  for (double v : xt)
    os << "<line x1='" << f.px(v) << "' x2='" << f.px(v) << "' y1='" << f.h - f.b << "' y2='" << f.h - f.b + 4
       << "' stroke='black'/>\n<text x='" << f.px(v) << "' y='" << f.h - f.b + 18 << "' text-anchor='middle'>"
       << apps::tick_label(v, step) << "</text>\n";
  os << "<text x='" << (f.l + f.w - f.r) / 2 << "' y='" << f.h - 24 << "' text-anchor='middle'>" << esc(p.x_label)
     << "</text>\n";
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& s : p.series) {
    const size_t n = s.density.size();
    if (n == 0) continue;
    const double width = (f.x1 - f.x0) / double(n);
    // A step outline, filled lightly, so two distributions stay readable where they overlap.
    std::ostringstream path;
    path << "M" << f.px(f.x0) << "," << f.py(0);
    for (size_t b = 0; b < n; ++b) {
      const double y = std::isfinite(s.density[b]) ? s.density[b] : 0;
      path << " L" << f.px(f.x0 + double(b) * width) << "," << f.py(y) << " L" << f.px(f.x0 + double(b + 1) * width)
           << "," << f.py(y);
    }
    path << " L" << f.px(f.x1) << "," << f.py(0) << " Z";
    os << "<path d='" << path.str() << "' fill='" << s.color << "' fill-opacity='0.3' stroke='" << s.color
       << "' stroke-width='1.2'/>\n";
    items.push_back({s.name, s.color});
  }
  legend(os, f, items);
  footnote(os, f, p.note);
  os << "</svg>\n";
  return os.str();
}

std::string render_bars_svg(const BarPlot& p) {
  Frame f;
  f.w = std::max(640.0, 120.0 * double(p.groups.size()) + 220);
  f.x0 = 0;
  f.x1 = std::max<double>(1, double(p.groups.size()));
  f.y0 = 0;
  f.y1 = p.y_max > 0 ? p.y_max : 1;
  std::ostringstream os;
  open_svg(os, f, p.title);
  y_axis(os, f, p.y_label);
  const double slot = f.px(1) - f.px(0);
  const double bar = 0.8 * slot / double(std::max<size_t>(1, p.series.size()));
  std::vector<std::pair<std::string, std::string>> items;
  for (size_t s = 0; s < p.series.size(); ++s) {
    const auto& se = p.series[s];
    items.push_back({se.name, se.color});
    for (size_t g = 0; g < p.groups.size() && g < se.values.size(); ++g) {
      const double v = se.values[g];
      if (!std::isfinite(v)) continue;
      const double x = f.px(double(g)) + 0.1 * slot + double(s) * bar;
      const double y = f.py(std::min(v, f.y1));
      char num[32];
      std::snprintf(num, sizeof num, "%.2f", v);
      os << "<rect x='" << x << "' y='" << y << "' width='" << bar - 2 << "' height='" << f.py(0) - y << "' fill='"
         << se.color << "' fill-opacity='0.8'/>\n<text x='" << x + (bar - 2) / 2 << "' y='" << y - 3
         << "' text-anchor='middle' font-size='10'>" << num << "</text>\n";
    }
  }
  for (size_t g = 0; g < p.groups.size(); ++g)
    os << "<text x='" << f.px(double(g) + 0.5) << "' y='" << f.h - f.b + 18 << "' text-anchor='middle'>"
       << esc(p.groups[g]) << "</text>\n";
  legend(os, f, items);
  footnote(os, f, p.note);
  os << "</svg>\n";
  return os.str();
}

}  // namespace cg::encoding
