#include "apps/common/svg_plot.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

namespace cg::apps {

// ---- ticks -------------------------------------------------------------------------------

namespace {

// 10^e, exact for the |e| <= 22 that axes meet (a product of exact powers of ten).
double pow10i(int e) {
  double p = 1;
  for (int i = 0; i < std::abs(e); ++i) p *= 10;
  return e >= 0 ? p : 1 / p;
}

// A tick step m x 10^e with m in {1, 2, 5}.
struct NiceStep {
  int64_t m = 1;
  int e = 0;
  double value() const { return e >= 0 ? static_cast<double>(m) * pow10i(e) : static_cast<double>(m) / pow10i(-e); }
  // k steps, computed as an integer over an exact power of ten so that the result is the double
  // nearest the decimal it names (3 x 0.2 would give 0.6000000000000001).
  double times(int64_t k) const {
    return e >= 0 ? static_cast<double>(k * m) * pow10i(e) : static_cast<double>(k * m) / pow10i(-e);
  }
};

// Heckbert's nice number ("Nice numbers for graph labels", Graphics Gems, 1990), rounding form.
NiceStep nice_step(double raw) {
  NiceStep s;
  s.e = static_cast<int>(std::floor(std::log10(raw)));
  const double f = raw / pow10i(s.e);
  if (f < 1.5) s.m = 1;
  else if (f < 3) s.m = 2;
  else if (f < 7) s.m = 5;
  else {
    s.m = 1;
    ++s.e;
  }
  return s;
}

// Decimals that a step needs: 0.2 -> 1, 0.05 -> 2, 500 -> 0.
int decimals_of(double step) { return std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9))); }

// "2.5e+06" -> "2.5e6", "1e-05" -> "1e-5".
std::string tidy_exponent(const std::string& s) {
  const size_t e = s.find('e');
  if (e == std::string::npos) return s;
  std::string mant = s.substr(0, e), exp = s.substr(e + 1);
  std::string sign;
  if (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) {
    if (exp[0] == '-') sign = "-";
    exp.erase(0, 1);
  }
  exp.erase(0, std::min(exp.find_first_not_of('0'), exp.size() - 1));
  return mant + "e" + sign + exp;
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(hi > lo)) return {};
  const NiceStep s = nice_step((hi - lo) / std::max(1, target));
  const double step = s.value(), slack = 1e-9;
  const auto k0 = static_cast<int64_t>(std::ceil(lo / step - slack));
  const auto k1 = static_cast<int64_t>(std::floor(hi / step + slack));
  std::vector<double> out;
  for (int64_t k = k0; k <= k1; ++k) out.push_back(s.times(k));
  return out;
}

std::vector<double> log_ticks(double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo > 0) || !(hi > lo)) return {};
  const double slack = 1e-9;
  const int e0 = static_cast<int>(std::ceil(std::log10(lo) - slack));
  const int e1 = static_cast<int>(std::floor(std::log10(hi) + slack));
  std::vector<double> out;
  if (e1 - e0 >= 2) {
    // Three or more powers of ten (always so from two decades up): those alone; with many
    // decades only every n-th, so that about seven remain.
    const int every = std::max(1, (e1 - e0 + 1 + 6) / 7);
    for (int e = e0; e <= e1; ++e)
      if (((e % every) + every) % every == 0) out.push_back(NiceStep{1, e}.value());
    return out;
  }
  for (int e = e0 - 1; e <= e1; ++e)
    for (int64_t m : {1, 2, 5}) {
      const double v = NiceStep{m, e}.value();
      if (v >= lo * (1 - slack) && v <= hi * (1 + slack)) out.push_back(v);
    }
  // Under a factor of ~2.5 not even two of 1, 2, 5 x 10^k fall inside: linear ticks read better.
  if (out.size() < 2) return nice_ticks(lo, hi);
  return out;
}

std::string tick_label(double value, double step) {
  char b[48];
  if (step < 1e-4 || step >= 1e6) {
    if (value == 0) return "0";
    const int digits =
        static_cast<int>(std::floor(std::log10(std::fabs(value)) + 1e-9) - std::floor(std::log10(step) + 1e-9));
    std::snprintf(b, sizeof b, "%.*e", std::clamp(digits, 0, 6), value);
    return tidy_exponent(b);
  }
  std::snprintf(b, sizeof b, "%.*f", decimals_of(step), value);
  return b;
}

std::string log_tick_label(double value) {
  char b[48];
  const double a = std::fabs(value);
  if (a >= 1e-4 && a < 1e6) {
    for (int d = 0; d <= 12; ++d) {
      std::snprintf(b, sizeof b, "%.*f", d, value);
      if (std::strtod(b, nullptr) == value) return b;
    }
  }
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(b, sizeof b, "%.*g", p, value);
    if (std::strtod(b, nullptr) == value) break;
  }
  return tidy_exponent(b);
}

// ---- natural order and the palette ---------------------------------------------------------

bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = std::isdigit(static_cast<unsigned char>(a[i])), db = std::isdigit(static_cast<unsigned char>(b[j]));
    if (da && db) {
      // Compare the runs as numbers without parsing them (a run may exceed 64 bits): skip
      // leading zeros, then the longer run is larger, then the first differing digit decides.
      size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      size_t is = i, js = j;
      while (is + 1 < ie && a[is] == '0') ++is;
      while (js + 1 < je && b[js] == '0') ++js;
      if (ie - is != je - js) return ie - is < je - js;
      const int c = a.compare(is, ie - is, b, js, je - js);
      if (c != 0) return c < 0;
      i = ie;
      j = je;
      continue;
    }
    const int ca = std::tolower(static_cast<unsigned char>(a[i])), cb = std::tolower(static_cast<unsigned char>(b[j]));
    if (ca != cb) return ca < cb;
    ++i;
    ++j;
  }
  if ((i < a.size()) != (j < b.size())) return i >= a.size();  // a prefix comes first
  return a < b;  // equal but for case or leading zeros: any fixed order keeps sort deterministic
}

const std::vector<std::string>& category_palette() {
  static const std::vector<std::string> palette = {
      // Tableau-10
      "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
      // glasbey-like: each the grid colour farthest (CIELAB) from all before it and from white
      "#0000ff", "#ff22ff", "#00ee00", "#330099", "#114411", "#660044", "#ff0077", "#776600", "#0077ff", "#aa11aa",
      "#223344", "#00eecc", "#9944ff", "#994400", "#003388", "#449977",
      // Tableau-20's lighter half last: each is close to its darker partner
      "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5"};
  return palette;
}

std::vector<std::pair<std::string, std::string>> category_colors(const std::vector<std::string>& category) {
  std::vector<std::string> names(category);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::sort(names.begin(), names.end(), natural_less);
  const auto& pal = category_palette();
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < names.size(); ++i) out.emplace_back(names[i], pal[i % pal.size()]);
  return out;
}

// ---- label placement -----------------------------------------------------------------------

bool LabelBox::overlaps(const LabelBox& o) const {
  return x < o.x + o.w && o.x < x + w && y < o.y + o.h && o.y < y + h;
}

LabelBox text_box(size_t chars, double font_size) {
  // 0.62 em per character is wider than the average sans-serif glyph (~0.55 em).
  return {0, 0, 0.62 * font_size * static_cast<double>(chars) + 2, 1.2 * font_size};
}

LabelPlacement place_labels(const std::vector<std::pair<double, double>>& anchors, const std::vector<LabelBox>& sizes,
                            const LabelBox& bounds, const std::vector<LabelBox>& obstacles) {
  LabelPlacement out;
  out.placed.assign(anchors.size(), false);
  out.boxes.assign(anchors.size(), LabelBox{});
  std::vector<LabelBox> taken(obstacles);
  for (size_t i = 0; i < anchors.size(); ++i) {
    const auto [ax, ay] = anchors[i];
    const double w = i < sizes.size() ? sizes[i].w : 0, h = i < sizes.size() ? sizes[i].h : 0;
    bool done = false;
    for (double gap : {4.0, 12.0, 24.0, 40.0}) {  // next to the point first, then farther out (with a leader line)
      const LabelBox candidates[] = {{ax + gap, ay - gap - h, w, h},     {ax + gap, ay + gap, w, h},
                                     {ax - gap - w, ay - gap - h, w, h}, {ax - gap - w, ay + gap, w, h},
                                     {ax + gap, ay - h / 2, w, h},       {ax - gap - w, ay - h / 2, w, h},
                                     {ax - w / 2, ay - gap - h, w, h},   {ax - w / 2, ay + gap, w, h}};
      for (const LabelBox& c : candidates) {
        if (c.x < bounds.x || c.y < bounds.y || c.x + c.w > bounds.x + bounds.w || c.y + c.h > bounds.y + bounds.h)
          continue;
        if (std::any_of(taken.begin(), taken.end(), [&](const LabelBox& t) { return t.overlaps(c); })) continue;
        out.boxes[i] = c;
        out.placed[i] = true;
        taken.push_back(c);
        done = true;
        break;
      }
      if (done) break;
    }
    if (!done) ++out.left_out;
  }
  return out;
}

// ---- drawing -------------------------------------------------------------------------------

std::string svg_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '\'') o += "&apos;";
    else o += c;
  }
  return o;
}

namespace {

std::string esc(const std::string& s) { return svg_escape(s); }

// Canvas size and margins; the plot area keeps its size, the right margin grows with the legend.
struct Layout {
  double w = 640, h = 480, l = 70, r = 160, t = 40, b = 55;
  double plot_w() const { return w - l - r; }
  double plot_h() const { return h - t - b; }
  LabelBox plot_area() const { return {l, t, plot_w(), plot_h()}; }
};

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  double frac(double v) const {
    return log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
  }
};

struct Axes {
  Layout g;
  Axis x, y;
  double px(double v) const { return g.l + x.frac(v) * g.plot_w(); }
  double py(double v) const { return g.h - g.b - y.frac(v) * g.plot_h(); }
};

// The finite (on a log axis: positive) range of `v`, padded by 4% (of the decades on a log axis).
Axis range_of(const std::vector<double>& v, bool log = false) {
  double lo = INFINITY, hi = -INFINITY;
  for (double a : v)
    if (std::isfinite(a) && (!log || a > 0)) {
      const double t = log ? std::log10(a) : a;
      lo = std::min(lo, t);
      hi = std::max(hi, t);
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
  if (log) return {std::pow(10.0, lo), std::pow(10.0, hi), true};
  return {lo, hi, false};
}

struct Tick {
  double value;
  std::string label;
};

std::vector<Tick> ticks_of(const Axis& a, bool integers_only = false) {
  std::vector<Tick> out;
  if (a.log) {
    const std::vector<double> t = log_ticks(a.lo, a.hi);
    for (double v : t) out.push_back({v, log_tick_label(v)});
    return out;
  }
  const std::vector<double> t = nice_ticks(a.lo, a.hi);
  const double step = t.size() >= 2 ? t[1] - t[0] : a.hi - a.lo;
  for (double v : t)
    if (!integers_only || v == std::round(v))
      out.push_back({v, tick_label(v, integers_only ? std::max(1.0, step) : step)});
  return out;
}

void frame(std::ostringstream& os, const Axes& a, const std::string& title, const std::string& xl,
           const std::string& yl, bool integer_x = false) {
  const Layout& g = a.g;
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='" << g.w << "' height='" << g.h
     << "' font-family='sans-serif' font-size='12'>\n"
     << "<rect width='100%' height='100%' fill='white'/>\n"
     << "<text x='" << g.l + g.plot_w() / 2 << "' y='22' text-anchor='middle' font-size='15'>" << esc(title)
     << "</text>\n";
  const double bottom = g.h - g.b, right = g.w - g.r;
  for (const Tick& t : ticks_of(a.x, integer_x)) {
    const double x = a.px(t.value);
    os << "<line x1='" << x << "' y1='" << g.t << "' x2='" << x << "' y2='" << bottom << "' stroke='#ececec'/>\n"
       << "<line x1='" << x << "' y1='" << bottom << "' x2='" << x << "' y2='" << bottom + 4 << "' stroke='black'/>\n"
       << "<text x='" << x << "' y='" << bottom + 17 << "' text-anchor='middle'>" << t.label << "</text>\n";
  }
  for (const Tick& t : ticks_of(a.y)) {
    const double y = a.py(t.value);
    os << "<line x1='" << g.l << "' y1='" << y << "' x2='" << right << "' y2='" << y << "' stroke='#ececec'/>\n"
       << "<line x1='" << g.l - 4 << "' y1='" << y << "' x2='" << g.l << "' y2='" << y << "' stroke='black'/>\n"
       << "<text x='" << g.l - 7 << "' y='" << y + 4 << "' text-anchor='end'>" << t.label << "</text>\n";
  }
  os << "<rect x='" << g.l << "' y='" << g.t << "' width='" << g.plot_w() << "' height='" << g.plot_h()
     << "' fill='none' stroke='black'/>\n"
     << "<text x='" << g.l + g.plot_w() / 2 << "' y='" << g.h - 12 << "' text-anchor='middle'>" << esc(xl)
     << "</text>\n"
     << "<text transform='translate(16," << g.t + g.plot_h() / 2 << ") rotate(-90)' text-anchor='middle'>" << esc(yl)
     << "</text>\n";
}

// The top-left note inside the plot (one line each, so that a long note does not run past the
// frame), and the box it covers (kept free of point labels).
constexpr double kNoteSize = 12;
using Note = std::vector<std::string>;
LabelBox note_box(const Layout& g, const Note& note) {
  size_t longest = 0;
  for (const auto& line : note) longest = std::max(longest, line.size());
  LabelBox b = text_box(longest, kNoteSize);
  b.x = g.l + 8;
  b.y = g.t + 6;
  b.h *= static_cast<double>(note.size());
  return b;
}
void draw_note(std::ostringstream& os, const Layout& g, const Note& note) {
  const LabelBox b = note_box(g, note);
  for (size_t i = 0; i < note.size(); ++i)
    os << "<text x='" << b.x << "' y='" << b.y + (0.9 + 1.2 * static_cast<double>(i)) * kNoteSize
       << "' stroke='white' stroke-width='3' paint-order='stroke'>" << esc(note[i]) << "</text>\n";
}

// Text drawn in a placed box; a leader line when the box sits away from its point.
void draw_label(std::ostringstream& os, const LabelBox& b, double ax, double ay, double font_size,
                const std::string& text, const char* color) {
  const double cx = std::clamp(ax, b.x, b.x + b.w), cy = std::clamp(ay, b.y, b.y + b.h);
  if (std::hypot(cx - ax, cy - ay) > 8)
    os << "<line x1='" << ax << "' y1='" << ay << "' x2='" << cx << "' y2='" << cy << "' stroke='" << color
       << "' stroke-width='0.6'/>\n";
  os << "<text x='" << b.x + 1 << "' y='" << b.y + 0.9 * font_size << "' font-size='" << font_size << "' fill='"
     << color << "' stroke='white' stroke-width='2.5' paint-order='stroke'>" << esc(text) << "</text>\n";
}

// `note` (a line, or none when empty) and a line saying how many labels were left out, if any.
Note with_left_out(const std::string& note, size_t left_out, size_t total, const char* what) {
  Note out;
  if (!note.empty()) out.push_back(note);
  if (left_out > 0)
    out.push_back(std::to_string(left_out) + " of " + std::to_string(total) + " " + what + " left out (no room)");
  return out;
}

// Labels kept clear of the note; when some are left out the note gets a line to say so, and the
// placement is redone around the taller note.
LabelPlacement place_around_note(const std::vector<std::pair<double, double>>& anchors,
                                 const std::vector<LabelBox>& sizes, const Layout& g, std::vector<LabelBox> obstacles,
                                 const std::string& note, const char* what) {
  auto place = [&](const Note& text) {
    std::vector<LabelBox> o(obstacles);
    if (!text.empty()) o.push_back(note_box(g, text));
    return place_labels(anchors, sizes, g.plot_area(), o);
  };
  LabelPlacement r = place(with_left_out(note, 0, 0, what));
  if (r.left_out == 0) return r;
  return place(with_left_out(note, 999, 999, what));
}

}  // namespace

std::string render_svg(const ScatterPlot& p) {
  Axis ax = range_of(p.x), ay = range_of(p.y);
  if (p.diagonal) {
    ax.lo = ay.lo = std::min(ax.lo, ay.lo);
    ax.hi = ay.hi = std::max(ax.hi, ay.hi);
  }
  const Axes a{Layout{}, ax, ay};
  std::ostringstream os;
  frame(os, a, p.title, p.x_label, p.y_label);
  if (p.diagonal)
    os << "<line x1='" << a.px(ax.lo) << "' y1='" << a.py(ax.lo) << "' x2='" << a.px(ax.hi) << "' y2='" << a.py(ax.hi)
       << "' stroke='#999' stroke-dasharray='4 3'/>\n";
  for (size_t i = 0; i < p.x.size() && i < p.y.size(); ++i)
    if (std::isfinite(p.x[i]) && std::isfinite(p.y[i]))
      os << "<circle cx='" << a.px(p.x[i]) << "' cy='" << a.py(p.y[i])
         << "' r='1.8' fill='#555' fill-opacity='0.5'/>\n";

  // Highlighted points, then their labels: a label may cover grey points but neither another
  // label, a highlighted point, nor the note.
  std::vector<std::pair<double, double>> anchors;
  std::vector<LabelBox> sizes, obstacles;
  std::vector<std::string> texts;
  for (size_t k = 0; k < p.highlighted.size(); ++k) {
    const size_t i = p.highlighted[k];
    if (i >= p.x.size() || i >= p.y.size() || !std::isfinite(p.x[i]) || !std::isfinite(p.y[i])) continue;
    const double px = a.px(p.x[i]), py = a.py(p.y[i]);
    os << "<circle cx='" << px << "' cy='" << py << "' r='3' fill='#d62728'/>\n";
    obstacles.push_back({px - 3, py - 3, 6, 6});
    if (k < p.labels.size() && !p.labels[k].empty()) {
      anchors.emplace_back(px, py);
      sizes.push_back(text_box(p.labels[k].size(), 10));
      texts.push_back(p.labels[k]);
    }
  }
  const LabelPlacement placed = place_around_note(anchors, sizes, a.g, obstacles, p.note, "labels");
  for (size_t k = 0; k < texts.size(); ++k)
    if (placed.placed[k]) draw_label(os, placed.boxes[k], anchors[k].first, anchors[k].second, 10, texts[k], "#b01c1c");
  draw_note(os, a.g, with_left_out(p.note, placed.left_out, texts.size(), "labels"));
  os << "</svg>\n";
  return os.str();
}

std::string render_svg(const LinePlot& p) {
  std::vector<double> all;
  size_t steps = 1;
  for (const auto& s : p.series) {
    steps = std::max(steps, s.y.size());
    all.insert(all.end(), s.y.begin(), s.y.end());
  }
  const Axes a{Layout{}, Axis{1, static_cast<double>(std::max<size_t>(steps, 2)), false}, range_of(all, p.log_y)};
  std::ostringstream os;
  frame(os, a, p.title, p.x_label, p.y_label, /*integer_x=*/true);
  const auto& pal = category_palette();
  for (size_t k = 0; k < p.series.size(); ++k) {
    const auto& s = p.series[k];
    const std::string& color = pal[k % pal.size()];
    std::ostringstream path;
    bool pen_down = false;
    for (size_t i = 0; i < s.y.size(); ++i) {
      const double v = s.y[i];
      if (!std::isfinite(v) || (p.log_y && v <= 0)) {
        pen_down = false;
        continue;
      }
      path << (pen_down ? " L" : " M") << a.px(static_cast<double>(i + 1)) << " " << a.py(v);
      pen_down = true;
    }
    const double lx = a.g.w - a.g.r + 10, ly = a.g.t + 16 * static_cast<double>(k);
    os << "<path d='" << path.str() << "' fill='none' stroke='" << color << "' stroke-width='1.6'/>\n"
       << "<rect x='" << lx << "' y='" << ly << "' width='12' height='3' fill='" << color << "'/>\n"
       << "<text x='" << lx + 16 << "' y='" << ly + 5 << "'>" << esc(s.name) << "</text>\n";
  }
  if (p.marked_x >= 1 && static_cast<size_t>(p.marked_x) <= std::max<size_t>(steps, 2)) {
    const double x = a.px(p.marked_x);
    // The text goes on the side of the line with more room.
    const bool left = x > a.g.l + a.g.plot_w() * 0.6;
    os << "<line x1='" << x << "' y1='" << a.g.t << "' x2='" << x << "' y2='" << a.g.h - a.g.b
       << "' stroke='#444' stroke-dasharray='5 4'/>\n"
       << "<text x='" << (left ? x - 4 : x + 4) << "' y='" << a.g.t + 14 << "' text-anchor='"
       << (left ? "end" : "start") << "' font-size='11' fill='#444' stroke='white' stroke-width='3' "
       << "paint-order='stroke'>best epoch " << p.marked_x << "</text>\n";
  }
  os << "</svg>\n";
  return os.str();
}

std::string render_svg(const CategoryScatter& p) {
  const Axis ax = range_of(p.x), ay = range_of(p.y);
  const auto colors = category_colors(p.category);
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < colors.size(); ++i) index_of[colors[i].first] = i;
  const size_t n_colors = category_palette().size();

  // Legend: one column, two when the classes need them; beyond that the plot labels classes.
  Layout g;
  constexpr double kRow = 14, kLegendFont = 10;
  constexpr size_t kMaxChars = 22;
  const size_t per_column = static_cast<size_t>(g.plot_h() / kRow) + 1;
  const size_t columns = colors.size() > per_column ? 2 : 1;
  const bool overflow = colors.size() > columns * per_column;
  size_t longest = 4;
  for (const auto& [name, c] : colors) longest = std::max(longest, std::min(name.size(), kMaxChars));
  // Room for the names, and for the "+N more (see labels)" entry when there is one.
  const double column_w =
      std::clamp(24 + 0.62 * kLegendFont * static_cast<double>(longest), overflow ? 130.0 : 70.0, 170.0);
  g.r = 12 + column_w * static_cast<double>(columns);
  g.w = g.l + 410 + g.r;
  const Axes a{g, ax, ay};

  // Past the palette colours repeat, so the marker shape changes (circle, square, diamond).
  auto marker = [&](std::ostringstream& os, double x, double y, double r, size_t cls, const char* extra) {
    const std::string& color = colors[cls].second;
    switch ((cls / n_colors) % 3) {
      case 0: os << "<circle cx='" << x << "' cy='" << y << "' r='" << r << "'"; break;
      case 1:
        os << "<rect x='" << x - r << "' y='" << y - r << "' width='" << 2 * r << "' height='" << 2 * r << "'";
        break;
      default:
        os << "<path d='M" << x << " " << y - 1.3 * r << " L" << x + 1.3 * r << " " << y << " L" << x << " "
           << y + 1.3 * r << " L" << x - 1.3 * r << " " << y << " Z'";
    }
    os << " fill='" << color << "'" << extra << "/>\n";
  };

  std::ostringstream os;
  frame(os, a, p.title, p.x_label, p.y_label);
  std::vector<std::vector<double>> xs(colors.size()), ys(colors.size());
  for (size_t i = 0; i < p.x.size() && i < p.y.size() && i < p.category.size(); ++i) {
    if (!std::isfinite(p.x[i]) || !std::isfinite(p.y[i])) continue;
    const size_t cls = index_of.at(p.category[i]);
    marker(os, a.px(p.x[i]), a.py(p.y[i]), 2.2, cls, " fill-opacity='0.75'");
    xs[cls].push_back(p.x[i]);
    ys[cls].push_back(p.y[i]);
  }

  const size_t shown = overflow ? columns * per_column - 1 : colors.size();
  for (size_t k = 0; k < shown; ++k) {
    const double x = g.w - g.r + 8 + column_w * static_cast<double>(k / per_column);
    const double y = g.t + kRow * static_cast<double>(k % per_column);
    std::string name = colors[k].first;
    if (name.size() > kMaxChars) name = name.substr(0, kMaxChars - 2) + "..";
    marker(os, x + 6, y, 4, k, "");
    os << "<text x='" << x + 16 << "' y='" << y + 4 << "' font-size='" << kLegendFont << "'>" << esc(name)
       << "</text>\n";
  }
  if (overflow)
    os << "<text x='" << g.w - g.r + 8 + column_w << "' y='" << g.t + kRow * static_cast<double>(per_column - 1) + 4
       << "' font-size='" << kLegendFont << "'>+" << colors.size() - shown << " more (see labels)</text>\n";

  Note note;
  if (p.direct_labels || overflow) {
    // Each class's name at its median point, the largest classes first (they get the room).
    std::vector<size_t> order;
    for (size_t c = 0; c < colors.size(); ++c)
      if (!xs[c].empty()) order.push_back(c);
    std::stable_sort(order.begin(), order.end(), [&](size_t u, size_t v) { return xs[u].size() > xs[v].size(); });
    auto median = [](std::vector<double> v) {
      std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
      return v[v.size() / 2];
    };
    std::vector<std::pair<double, double>> anchors;
    std::vector<LabelBox> sizes;
    for (size_t c : order) {
      anchors.emplace_back(a.px(median(xs[c])), a.py(median(ys[c])));
      sizes.push_back(text_box(colors[c].first.size(), kLegendFont));
    }
    const LabelPlacement placed = place_around_note(anchors, sizes, g, {}, "", "class labels");
    for (size_t k = 0; k < order.size(); ++k)
      if (placed.placed[k])
        draw_label(os, placed.boxes[k], anchors[k].first, anchors[k].second, kLegendFont, colors[order[k]].first,
                   "#222");
    note = with_left_out("", placed.left_out, order.size(), "class labels");
  }
  draw_note(os, g, note);
  os << "</svg>\n";
  return os.str();
}

}  // namespace cg::apps
