#include "omics/rank_vectors.h"

#include <cmath>
#include <string>

#include "omics/error.h"
#include "omics/rank_encoding.h"

namespace cg::omics {

RankedCells rank_cells(const CsrMatrix& x, const std::vector<double>& divisors, int64_t max_length) {
  RankedCells r;
  r.genes = x.cols;
  r.order = rank_value_encode(x, divisors, max_length);
  r.values.resize(r.order.size());
  std::vector<double> row(static_cast<size_t>(x.cols), 0.0);
  for (int64_t i = 0; i < x.rows; ++i) {
    for (int64_t p = x.indptr[i]; p < x.indptr[i + 1]; ++p) row[x.indices[p]] = double(x.data[p]);
    auto& v = r.values[static_cast<size_t>(i)];
    for (int64_t g : r.order[static_cast<size_t>(i)]) v.push_back(row[g] / divisors[g]);
    for (int64_t p = x.indptr[i]; p < x.indptr[i + 1]; ++p) row[x.indices[p]] = 0.0;
  }
  return r;
}

DenseMatrix rank_vectors(const RankedCells& r) {
  const int64_t n = static_cast<int64_t>(r.order.size()), g = r.genes;
  DenseMatrix out(n, g);
  for (int64_t i = 0; i < n; ++i) {
    const auto& order = r.order[static_cast<size_t>(i)];
    const auto& val = r.values[static_cast<size_t>(i)];
    const int64_t listed = static_cast<int64_t>(order.size());
    if (listed > g) throw DataError("rank_vectors: cell " + std::to_string(i) + " lists more genes than there are");
    // Unlisted genes hold ranks 1 .. g - listed, all tied: their average.
    out.row(i).setConstant(static_cast<float>(0.5 * double(g - listed + 1)));
    // The first listed gene has the highest rank g; a run of equal values shares the mean rank.
    for (int64_t a = 0; a < listed;) {
      int64_t b = a + 1;
      while (b < listed && val[static_cast<size_t>(b)] == val[static_cast<size_t>(a)]) ++b;
      const double top = double(g - a), bottom = double(g - b + 1);
      const float mean = static_cast<float>(0.5 * (top + bottom));
      for (int64_t k = a; k < b; ++k) out(i, order[static_cast<size_t>(k)]) = mean;
      a = b;
    }
  }
  return out;
}

RankLoss rank_loss(const RankedCells& r, int64_t cell) {
  RankLoss l;
  const auto& val = r.values.at(static_cast<size_t>(cell));
  l.listed = static_cast<int64_t>(val.size());
  l.bottom_tied = r.genes - l.listed;
  for (size_t a = 0; a < val.size();) {
    size_t b = a + 1;
    while (b < val.size() && val[b] == val[a]) ++b;
    if (b - a > 1) {
      l.tied_listed += static_cast<int64_t>(b - a);
      l.log10_orderings += std::lgamma(double(b - a) + 1.0) / std::log(10.0);
    }
    a = b;
  }
  return l;
}

}  // namespace cg::omics
