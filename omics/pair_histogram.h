#pragma once
// Similarities of cell pairs in two classes (same type / different types) counted in fine bins
// over [-1, 1], so that the summaries and the AUROC of "similarity predicts same type" need no
// list of all N^2 / 2 pairs. Counts are exact integers; the AUROC is exact up to pairs that
// share a bin, whose order is unknown: auroc() counts them as ties (half) and auroc_bound()
// says how far the exact value can be from it.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cg::omics {

class PairHistogram {
 public:
  explicit PairHistogram(int bins = 1 << 16);
  int bins() const { return static_cast<int>(same_.size()); }
  double bin_width() const { return 2.0 / double(bins()); }
  int bin_of(double s) const;  // clamped into [0, bins)
  void add(double s, bool same_class) {
    auto& c = same_class ? same_ : other_;
    ++c[static_cast<size_t>(bin_of(s))];
    (same_class ? sum_same_ : sum_other_) += s;
    (same_class ? sq_same_ : sq_other_) += s * s;
  }
  // Adds another histogram's counts and sums (same bins).
  void merge(const PairHistogram& o);

  struct Summary {
    int64_t pairs = 0;
    double mean = 0, sd = 0;           // exact (from the sums)
    double q05 = 0, median = 0, q95 = 0;  // bin centres, so within one bin width
  };
  Summary summary(bool same_class) const;
  // P(s_same > s_other) + P(equal) / 2, pairs within a bin counted as equal; NaN when a class is empty.
  double auroc() const;
  // The largest possible |exact AUROC - auroc()|: half the share of (same, other) pairs in one bin.
  double auroc_bound() const;
  // Counts regrouped into `coarse` equal bins over [lo, hi] (for pictures); outside pairs go to the ends.
  std::vector<int64_t> coarse(bool same_class, int coarse, double lo, double hi) const;
  const std::vector<int64_t>& counts(bool same_class) const { return same_class ? same_ : other_; }

 private:
  std::vector<int64_t> same_, other_;
  double sum_same_ = 0, sum_other_ = 0, sq_same_ = 0, sq_other_ = 0;
};

// Exact AUROC (Mann-Whitney U / (n_pos n_neg), ties counted half) by sorting: the reference for
// small sets and tests. NaN when either set is empty.
double auroc_exact(std::vector<double> positives, std::vector<double> negatives);

}  // namespace cg::omics
