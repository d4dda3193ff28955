#include "omics/quantile_bins.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "omics/error.h"

namespace cg::omics {
namespace {

// numpy's _lerp: a + (b - a) t, computed from b for t >= 0.5 (numpy >= 1.22) so that t = 1 gives b.
double lerp(double a, double b, double t) {
  const double d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

}  // namespace

DenseMatrix quantile_bins(const CsrMatrix& x, int n_bins) {
  if (n_bins < 3) throw DataError("quantile_bins: expected at least 3 bins, found " + std::to_string(n_bins));
  const int n_edges = n_bins - 1;
  DenseMatrix out = DenseMatrix::Zero(x.rows, x.cols);
  std::vector<double> v, edges(static_cast<size_t>(n_edges));
  for (int64_t i = 0; i < x.rows; ++i) {
    v.clear();
    for (int64_t p = x.indptr[i]; p < x.indptr[i + 1]; ++p)
      if (x.data[p] != 0.0f) v.push_back(double(x.data[p]));
    if (v.empty()) continue;
    std::sort(v.begin(), v.end());
    const double last = double(v.size() - 1);
    for (int e = 0; e < n_edges; ++e) {
      // numpy.linspace(0, 1, n): start + step * e, the last point set to stop exactly.
      const double q = e == n_edges - 1 ? 1.0 : double(e) * (1.0 / double(n_edges - 1));
      const double pos = last * q;
      const double lo = std::floor(pos);
      const size_t a = static_cast<size_t>(lo), b = std::min(a + 1, v.size() - 1);
      edges[static_cast<size_t>(e)] = lerp(v[a], v[b], pos - lo);
    }
    for (int64_t p = x.indptr[i]; p < x.indptr[i + 1]; ++p) {
      if (x.data[p] == 0.0f) continue;
      const double value = double(x.data[p]);
      const auto bin = std::upper_bound(edges.begin(), edges.end(), value) - edges.begin();
      out(i, x.indices[p]) = static_cast<float>(bin);
    }
  }
  return out;
}

}  // namespace cg::omics
