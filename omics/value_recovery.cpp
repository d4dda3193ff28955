#include "omics/value_recovery.h"

#include <cmath>
#include <string>

#include "omics/error.h"

namespace cg::omics {

PooledLineFit fit_pooled_line(const std::vector<std::vector<double>>& codes,
                              const std::vector<std::vector<double>>& values) {
  if (codes.size() != values.size()) throw DataError("fit_pooled_line: codes and values differ in cells");
  double n = 0, sx = 0, sy = 0;
  for (size_t i = 0; i < codes.size(); ++i) {
    if (codes[i].size() != values[i].size())
      throw DataError("fit_pooled_line: cell " + std::to_string(i) + " has codes and values of different lengths");
    for (size_t e = 0; e < codes[i].size(); ++e) {
      sx += codes[i][e];
      sy += values[i][e];
      n += 1;
    }
  }
  PooledLineFit f;
  f.r2.assign(codes.size(), NAN);
  if (n < 2) return f;
  const double mx = sx / n, my = sy / n;
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < codes.size(); ++i)
    for (size_t e = 0; e < codes[i].size(); ++e) {
      sxx += (codes[i][e] - mx) * (codes[i][e] - mx);
      sxy += (codes[i][e] - mx) * (values[i][e] - my);
    }
  f.slope = sxx > 0 ? sxy / sxx : 0.0;
  f.intercept = my - f.slope * mx;
  for (size_t i = 0; i < codes.size(); ++i) {
    const auto& x = codes[i];
    const auto& y = values[i];
    if (y.size() < 2) continue;
    double mean = 0;
    for (double v : y) mean += v;
    mean /= double(y.size());
    double ss_tot = 0, ss_res = 0;
    for (size_t e = 0; e < y.size(); ++e) {
      const double r = y[e] - (f.slope * x[e] + f.intercept);
      ss_res += r * r;
      ss_tot += (y[e] - mean) * (y[e] - mean);
    }
    if (ss_tot > 0) f.r2[i] = 1.0 - ss_res / ss_tot;
  }
  return f;
}

}  // namespace cg::omics
