#include "omics/nearest_neighbors.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "omics/error.h"

namespace cg::omics {

TopNeighbors::TopNeighbors(int64_t cells, int k) : k_(k) {
  if (k < 1) throw DataError("TopNeighbors: k must be positive, found " + std::to_string(k));
  sim_.assign(static_cast<size_t>(cells * k), 0.0f);
  idx_.assign(static_cast<size_t>(cells * k), -1);
  count_.assign(static_cast<size_t>(cells), 0);
}

KnnLabelScores knn_label_scores(const TopNeighbors& nn, const std::vector<int>& labels) {
  const int64_t n = nn.cells();
  if (static_cast<int64_t>(labels.size()) != n)
    throw DataError("knn_label_scores: " + std::to_string(labels.size()) + " labels for " + std::to_string(n) +
                    " cells");
  const int n_labels = labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end()) + 1;
  KnnLabelScores out;
  out.purity.assign(static_cast<size_t>(n), NAN);
  out.predicted.assign(static_cast<size_t>(n), -1);
  std::vector<int> votes(static_cast<size_t>(n_labels));
  double purity_sum = 0;
  int64_t scored = 0, right = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int m = nn.count(i);
    if (m == 0) continue;
    std::fill(votes.begin(), votes.end(), 0);
    int same = 0;
    for (int r = 0; r < m; ++r) {
      const int l = labels[static_cast<size_t>(nn.index(i, r))];
      ++votes[static_cast<size_t>(l)];
      same += l == labels[static_cast<size_t>(i)];
    }
    const int most = *std::max_element(votes.begin(), votes.end());
    int pred = -1;
    for (int r = 0; r < m && pred < 0; ++r) {  // nearest first: the first label with the most votes
      const int l = labels[static_cast<size_t>(nn.index(i, r))];
      if (votes[static_cast<size_t>(l)] == most) pred = l;
    }
    out.purity[static_cast<size_t>(i)] = double(same) / double(m);
    out.predicted[static_cast<size_t>(i)] = pred;
    purity_sum += double(same) / double(m);
    right += pred == labels[static_cast<size_t>(i)];
    ++scored;
  }
  out.mean_purity = scored ? purity_sum / double(scored) : NAN;
  out.accuracy = scored ? double(right) / double(scored) : NAN;
  return out;
}

BatchMixing batch_mixing(const TopNeighbors& nn, const std::vector<int>& labels, const std::vector<int>& batches) {
  const int64_t n = nn.cells();
  if (static_cast<int64_t>(labels.size()) != n || static_cast<int64_t>(batches.size()) != n)
    throw DataError("batch_mixing: labels and batches must have one entry per cell");
  std::map<int, int64_t> type_size;
  std::map<std::pair<int, int>, int64_t> type_batch_size;
  for (int64_t i = 0; i < n; ++i) {
    ++type_size[labels[static_cast<size_t>(i)]];
    ++type_batch_size[{labels[static_cast<size_t>(i)], batches[static_cast<size_t>(i)]}];
  }
  BatchMixing out;
  out.observed.assign(static_cast<size_t>(n), NAN);
  out.expected.assign(static_cast<size_t>(n), NAN);
  double so = 0, se = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int l = labels[static_cast<size_t>(i)], b = batches[static_cast<size_t>(i)];
    const int64_t others = type_size[l] - 1, other_batch = type_size[l] - type_batch_size[{l, b}];
    const int m = nn.count(i);
    if (others < 1 || m == 0 || type_batch_size[{l, b}] == type_size[l]) continue;
    int from_other = 0;
    for (int r = 0; r < m; ++r) from_other += batches[static_cast<size_t>(nn.index(i, r))] != b;
    out.observed[static_cast<size_t>(i)] = double(from_other) / double(m);
    out.expected[static_cast<size_t>(i)] = double(other_batch) / double(others);
    so += out.observed[static_cast<size_t>(i)];
    se += out.expected[static_cast<size_t>(i)];
    ++out.cells;
  }
  out.mean_observed = out.cells ? so / double(out.cells) : NAN;
  out.mean_expected = out.cells ? se / double(out.cells) : NAN;
  return out;
}

}  // namespace cg::omics
