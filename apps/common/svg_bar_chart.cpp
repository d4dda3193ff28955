#include "apps/common/svg_bar_chart.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "apps/common/svg_plot.h"

namespace cg::apps {

std::string render_svg(const BarChart& p) {
  size_t longest = 0;
  for (const auto& c : p.categories) longest = std::max(longest, c.size());
  // The left margin holds the names, drawn at 11 px; text_box's estimate at 12 px plus a gap, since
  // at 11 px a long upper-case MSigDB id came out wider than estimated and lost its first letter.
  const double left = std::min(480.0, text_box(longest, 12).w + 24), right = 150, top = 40, bottom = 50;
  const double row_h = 10.0 * static_cast<double>(std::max<size_t>(p.series.size(), 1)) + 8;
  const double plot_w = 420, plot_h = row_h * static_cast<double>(std::max<size_t>(p.categories.size(), 1));
  const double w = left + plot_w + right, h = top + plot_h + bottom;
  double lo = 0, hi = 0;  // the zero line is always inside
  for (const auto& s : p.series)
    for (double v : s.values)
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  if (hi - lo < 1e-12) hi = lo + 1;
  const double pad = 0.04 * (hi - lo);
  lo -= lo < 0 ? pad : 0;
  hi += hi > 0 ? pad : 0;
  auto px = [&](double v) { return left + (v - lo) / (hi - lo) * plot_w; };

  std::ostringstream os;
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='" << w << "' height='" << h
     << "' font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n"
     << "<text x='" << left + plot_w / 2 << "' y='22' text-anchor='middle' font-size='15'>" << svg_escape(p.title)
     << "</text>\n";
  const std::vector<double> ticks = nice_ticks(lo, hi);
  const double step = ticks.size() >= 2 ? ticks[1] - ticks[0] : hi - lo;
  for (double t : ticks) {
    const double x = px(t);
    os << "<line x1='" << x << "' y1='" << top << "' x2='" << x << "' y2='" << top + plot_h
       << "' stroke='#ececec'/>\n<text x='" << x << "' y='" << top + plot_h + 16 << "' text-anchor='middle'>"
       << tick_label(t, step) << "</text>\n";
  }
  const auto& pal = category_palette();
  for (size_t c = 0; c < p.categories.size(); ++c) {
    const double y0 = top + row_h * static_cast<double>(c);
    os << "<text x='" << left - 6 << "' y='" << y0 + row_h / 2 + 4 << "' text-anchor='end' font-size='11'>"
       << svg_escape(p.categories[c]) << "</text>\n";
    for (size_t k = 0; k < p.series.size(); ++k) {
      const double v = c < p.series[k].values.size() ? p.series[k].values[c] : NAN;
      if (!std::isfinite(v)) continue;
      const double x0 = px(std::min(0.0, v)), x1 = px(std::max(0.0, v));
      os << "<rect x='" << x0 << "' y='" << y0 + 4 + 10.0 * static_cast<double>(k) << "' width='"
         << std::max(x1 - x0, 0.5) << "' height='9' fill='" << pal[k % pal.size()] << "'/>\n";
    }
  }
  os << "<line x1='" << px(0) << "' y1='" << top << "' x2='" << px(0) << "' y2='" << top + plot_h
     << "' stroke='black'/>\n<rect x='" << left << "' y='" << top << "' width='" << plot_w << "' height='" << plot_h
     << "' fill='none' stroke='black'/>\n<text x='" << left + plot_w / 2 << "' y='" << h - 12
     << "' text-anchor='middle'>" << svg_escape(p.value_label) << "</text>\n";
  for (size_t k = 0; k < p.series.size(); ++k) {
    const double lx = left + plot_w + 12, ly = top + 16 * static_cast<double>(k);
    os << "<rect x='" << lx << "' y='" << ly << "' width='12' height='9' fill='" << pal[k % pal.size()] << "'/>\n"
       << "<text x='" << lx + 16 << "' y='" << ly + 9 << "'>" << svg_escape(p.series[k].name) << "</text>\n";
  }
  os << "</svg>\n";
  return os.str();
}

}  // namespace cg::apps
