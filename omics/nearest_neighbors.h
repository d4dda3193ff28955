#pragma once
// k nearest neighbours by similarity (highest first), kept per cell while similarities stream
// past, and what they say about labels: kNN label purity, leave-one-out kNN classification,
// and batch mixing among a cell's neighbours of its own type.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cg::omics {

// Per cell the k best candidates so far, best first. Order: higher similarity first, then the
// lower cell index, so the result does not depend on the order in which candidates arrive.
class TopNeighbors {
 public:
  TopNeighbors(int64_t cells, int k);
  int k() const { return k_; }
  int64_t cells() const { return static_cast<int64_t>(count_.size()); }
  void offer(int64_t cell, float s, int64_t candidate) {
    float* sim = &sim_[static_cast<size_t>(cell * k_)];
    int64_t* idx = &idx_[static_cast<size_t>(cell * k_)];
    int& n = count_[static_cast<size_t>(cell)];
    if (n == k_ && !better(s, candidate, sim[k_ - 1], idx[k_ - 1])) return;
    int pos = n < k_ ? n++ : k_ - 1;
    while (pos > 0 && better(s, candidate, sim[pos - 1], idx[pos - 1])) {
      sim[pos] = sim[pos - 1];
      idx[pos] = idx[pos - 1];
      --pos;
    }
    sim[pos] = s;
    idx[pos] = candidate;
  }
  int count(int64_t cell) const { return count_[static_cast<size_t>(cell)]; }
  int64_t index(int64_t cell, int r) const { return idx_[static_cast<size_t>(cell * k_ + r)]; }
  float similarity(int64_t cell, int r) const { return sim_[static_cast<size_t>(cell * k_ + r)]; }

 private:
  static bool better(float s, int64_t i, float t, int64_t j) { return s > t || (s == t && i < j); }
  int k_;
  std::vector<float> sim_;
  std::vector<int64_t> idx_;
  std::vector<int> count_;
};

struct KnnLabelScores {
  std::vector<double> purity;   // per cell: share of its neighbours with its label
  std::vector<int> predicted;   // per cell: majority label of its neighbours (-1: no neighbours)
  double mean_purity = 0;       // over cells
  double accuracy = 0;          // leave-one-out: share of cells whose predicted label is theirs
};
// Majority vote; a tie between labels goes to the label of the nearest neighbour among them.
// labels: 0 .. n_labels - 1.
KnnLabelScores knn_label_scores(const TopNeighbors& nn, const std::vector<int>& labels);

struct BatchMixing {
  // Per cell (NaN where undefined: its type has one batch, or the cell has no neighbour).
  std::vector<double> observed;  // share of its same-type neighbours from another batch
  std::vector<double> expected;  // share of the other cells of its type from another batch
  double mean_observed = 0, mean_expected = 0;  // over cells where both are defined
  int64_t cells = 0;                            // how many
};
// `same_type`: neighbours drawn from the cell's own type only. labels and batches: codes >= 0.
BatchMixing batch_mixing(const TopNeighbors& same_type, const std::vector<int>& labels,
                         const std::vector<int>& batches);

}  // namespace cg::omics
