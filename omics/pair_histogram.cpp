#include "omics/pair_histogram.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "omics/error.h"

namespace cg::omics {

PairHistogram::PairHistogram(int bins) {
  if (bins < 2) throw DataError("PairHistogram: expected at least 2 bins, found " + std::to_string(bins));
  same_.assign(static_cast<size_t>(bins), 0);
  other_.assign(static_cast<size_t>(bins), 0);
}

int PairHistogram::bin_of(double s) const {
  const double f = (s + 1.0) * 0.5 * double(bins());
  if (!(f > 0)) return 0;  // NaN too
  return std::min(bins() - 1, static_cast<int>(f));
}

void PairHistogram::merge(const PairHistogram& o) {
  if (o.bins() != bins()) throw DataError("PairHistogram::merge: different bin counts");
  for (size_t b = 0; b < same_.size(); ++b) {
    same_[b] += o.same_[b];
    other_[b] += o.other_[b];
  }
  sum_same_ += o.sum_same_;
  sum_other_ += o.sum_other_;
  sq_same_ += o.sq_same_;
  sq_other_ += o.sq_other_;
}

PairHistogram::Summary PairHistogram::summary(bool same_class) const {
  const auto& c = counts(same_class);
  Summary s;
  for (int64_t k : c) s.pairs += k;
  if (s.pairs == 0) {
    s.mean = s.sd = s.q05 = s.median = s.q95 = NAN;
    return s;
  }
  const double n = double(s.pairs);
  s.mean = (same_class ? sum_same_ : sum_other_) / n;
  const double var = (same_class ? sq_same_ : sq_other_) / n - s.mean * s.mean;
  s.sd = s.pairs > 1 ? std::sqrt(std::max(0.0, var) * n / (n - 1)) : 0.0;
  // The bin holding the pair of (0-based) position q (n - 1), as numpy's 'lower' would place it.
  auto quantile = [&](double q) {
    const int64_t target = static_cast<int64_t>(std::floor(q * (n - 1)));
    int64_t seen = 0;
    for (size_t b = 0; b < c.size(); ++b) {
      seen += c[b];
      if (seen > target) return -1.0 + (double(b) + 0.5) * bin_width();
    }
    return 1.0;
  };
  s.q05 = quantile(0.05);
  s.median = quantile(0.5);
  s.q95 = quantile(0.95);
  return s;
}

double PairHistogram::auroc() const {
  double below = 0, u = 0, n_same = 0, n_other = 0;
  for (size_t b = 0; b < same_.size(); ++b) {
    u += double(same_[b]) * (below + 0.5 * double(other_[b]));
    below += double(other_[b]);
    n_same += double(same_[b]);
  }
  n_other = below;
  if (n_same == 0 || n_other == 0) return NAN;
  return u / (n_same * n_other);
}

double PairHistogram::auroc_bound() const {
  double shared = 0, n_same = 0, n_other = 0;
  for (size_t b = 0; b < same_.size(); ++b) {
    shared += double(same_[b]) * double(other_[b]);
    n_same += double(same_[b]);
    n_other += double(other_[b]);
  }
  if (n_same == 0 || n_other == 0) return NAN;
  return 0.5 * shared / (n_same * n_other);
}

std::vector<int64_t> PairHistogram::coarse(bool same_class, int n, double lo, double hi) const {
  std::vector<int64_t> out(static_cast<size_t>(std::max(1, n)), 0);
  const auto& c = counts(same_class);
  for (size_t b = 0; b < c.size(); ++b) {
    if (c[b] == 0) continue;
    const double centre = -1.0 + (double(b) + 0.5) * bin_width();
    const double f = (centre - lo) / (hi - lo) * double(out.size());
    const int64_t k = std::clamp<int64_t>(static_cast<int64_t>(std::floor(f)), 0, static_cast<int64_t>(out.size()) - 1);
    out[static_cast<size_t>(k)] += c[b];
  }
  return out;
}

double auroc_exact(std::vector<double> pos, std::vector<double> neg) {
  if (pos.empty() || neg.empty()) return NAN;
  std::sort(neg.begin(), neg.end());
  double u = 0;
  for (double p : pos) {
    const auto lo = std::lower_bound(neg.begin(), neg.end(), p);
    const auto hi = std::upper_bound(lo, neg.end(), p);
    u += double(lo - neg.begin()) + 0.5 * double(hi - lo);
  }
  return u / (double(pos.size()) * double(neg.size()));
}

}  // namespace cg::omics
