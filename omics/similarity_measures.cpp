#include "omics/similarity_measures.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "kernels/cpu/parallel.h"
#include "omics/error.h"
#include "omics/pairwise_similarity.h"

namespace cg::omics {
namespace {

// Rows of one tile side visited against the other side: offers to the rows' neighbour lists
// and outliers, and (when `hist` is given) pairs with a higher column index to the histogram.
struct RowPass {
  SimilarityMeasures& m;
  const std::vector<int>& labels;
  bool same_label;

  void run(const float* s, int64_t row0, int64_t rows, int64_t col0, int64_t cols, std::vector<PairHistogram>* hist,
           int64_t grain) const {
    kernels::cpu::parallel_for(rows, grain, [&](int64_t lo, int64_t hi) {
      // One thread gets the whole range at once: the chunks (and so the sums) are cut here.
      for (int64_t i = lo; i < hi; ++i) {
        PairHistogram* h = hist ? &(*hist)[static_cast<size_t>(i / grain)] : nullptr;
        const int64_t gi = row0 + i;
        const int li = labels[static_cast<size_t>(gi)];
        CellPair& close = m.closest_other[static_cast<size_t>(gi)];
        CellPair& far = m.farthest_same[static_cast<size_t>(gi)];
        const float* row = s + i * cols;
        for (int64_t j = 0; j < cols; ++j) {
          const int64_t gj = col0 + j;
          if (gj == gi) continue;
          const float v = row[j];
          const bool same = labels[static_cast<size_t>(gj)] == li;
          if (h && gj > gi) h->add(v, same);
          m.neighbors.offer(gi, v, gj);
          if (same) {
            if (same_label) m.same_label.offer(gi, v, gj);
            if (far.b < 0 || v < far.s || (v == far.s && gj < far.b)) far = {gi, gj, v};
          } else if (close.b < 0 || v > close.s || (v == close.s && gj < close.b)) {
            close = {gi, gj, v};
          }
        }
      }
    });
  }
};

}  // namespace

SimilarityMeasures measure_similarities(const DenseMatrix& z, const std::vector<int>& labels,
                                        const SimilarityOptions& o,
                                        const std::function<void(int64_t, int64_t)>& progress) {
  const int64_t n = z.rows();
  if (static_cast<int64_t>(labels.size()) != n)
    throw DataError("measure_similarities: " + std::to_string(labels.size()) + " labels for " + std::to_string(n) +
                    " cells");
  if (n < 2) throw DataError("measure_similarities: need at least 2 cells, found " + std::to_string(n));
  const int k = static_cast<int>(std::min<int64_t>(o.k, n - 1));
  SimilarityMeasures m{PairHistogram(o.histogram_bins), TopNeighbors(n, k),
                       TopNeighbors(o.same_label_neighbors ? n : 0, k), std::vector<CellPair>(static_cast<size_t>(n)),
                       std::vector<CellPair>(static_cast<size_t>(n))};
  const int64_t block = std::min(n, o.block);
  // Fixed row chunks (16 per tile) each with its own histogram, merged in chunk order: the sums
  // behind the means come out the same for any thread count.
  const int64_t grain = std::max<int64_t>(1, (block + 15) / 16);
  std::vector<PairHistogram> chunk_hist(static_cast<size_t>((block + grain - 1) / grain),
                                        PairHistogram(o.histogram_bins));
  std::vector<float> transposed;
  const RowPass pass{m, labels, o.same_label_neighbors};
  for_each_similarity_tile(
      z, block,
      [&](const SimilarityTile& t) {
        pass.run(t.s, t.row0, t.rows, t.col0, t.cols, &chunk_hist, grain);
        for (auto& h : chunk_hist) {
          m.histogram.merge(h);
          h = PairHistogram(o.histogram_bins);
        }
        if (t.diagonal()) return;
        // The tile's columns as rows: their neighbours among this tile's rows.
        transposed.resize(static_cast<size_t>(t.rows * t.cols));
        Eigen::Map<DenseMatrix>(transposed.data(), t.cols, t.rows) =
            Eigen::Map<const DenseMatrix>(t.s, t.rows, t.cols).transpose();
        pass.run(transposed.data(), t.col0, t.cols, t.row0, t.rows, nullptr, grain);
      },
      progress);
  return m;
}

std::vector<CellPair> extreme_pairs(const std::vector<CellPair>& per_cell, int count, bool highest) {
  std::vector<CellPair> v;
  for (const auto& p : per_cell)
    if (p.b >= 0) v.push_back({std::min(p.a, p.b), std::max(p.a, p.b), p.s});
  std::sort(v.begin(), v.end(), [&](const CellPair& x, const CellPair& y) {
    if (x.s != y.s) return highest ? x.s > y.s : x.s < y.s;
    return std::make_pair(x.a, x.b) < std::make_pair(y.a, y.b);
  });
  std::vector<CellPair> out;
  std::set<std::pair<int64_t, int64_t>> seen;
  for (const auto& p : v) {
    if (static_cast<int>(out.size()) >= count) break;
    if (seen.insert({p.a, p.b}).second) out.push_back(p);
  }
  return out;
}

}  // namespace cg::omics
