#include "omics/pairwise_similarity.h"

#include <cmath>
#include <string>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/parallel.h"
#include "omics/error.h"

namespace cg::omics {

DenseMatrix unit_rows(DenseMatrix x, bool center, std::vector<int64_t>* constant_rows) {
  std::vector<char> constant(static_cast<size_t>(x.rows()), 0);
  kernels::cpu::parallel_for(x.rows(), kernels::cpu::row_grain(x.cols()), [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      double mean = 0, scale = 0;
      for (int64_t g = 0; g < x.cols(); ++g) {
        mean += x(i, g);
        scale = std::max(scale, std::abs(double(x(i, g))));
      }
      mean = center ? mean / double(std::max<int64_t>(1, x.cols())) : 0.0;
      double ss = 0;
      for (int64_t g = 0; g < x.cols(); ++g) ss += (x(i, g) - mean) * (x(i, g) - mean);
      // Relative to the row's scale: rounding can leave a constant row a tiny nonzero spread.
      if (!(ss > 1e-20 * scale * scale * double(x.cols()))) {
        x.row(i).setZero();
        constant[static_cast<size_t>(i)] = 1;
        continue;
      }
      const double inv = 1.0 / std::sqrt(ss);
      for (int64_t g = 0; g < x.cols(); ++g) x(i, g) = static_cast<float>((x(i, g) - mean) * inv);
    }
  });
  if (constant_rows)
    for (int64_t i = 0; i < x.rows(); ++i)
      if (constant[static_cast<size_t>(i)]) constant_rows->push_back(i);
  return x;
}

void for_each_similarity_tile(const DenseMatrix& z, int64_t block, const std::function<void(const SimilarityTile&)>& visit,
                              const std::function<void(int64_t, int64_t)>& progress) {
  if (block < 1) throw DataError("for_each_similarity_tile: block must be positive, found " + std::to_string(block));
  const int64_t n = z.rows(), d = z.cols();
  const int64_t blocks = (n + block - 1) / block;
  const int64_t total = blocks * (blocks + 1) / 2;
  std::vector<float> s(static_cast<size_t>(std::min(n, block) * std::min(n, block)));
  int64_t done = 0;
  for (int64_t bi = 0; bi < blocks; ++bi) {
    const int64_t r0 = bi * block, rows = std::min(n, r0 + block) - r0;
    for (int64_t bj = bi; bj < blocks; ++bj) {
      const int64_t c0 = bj * block, cols = std::min(n, c0 + block) - c0;
      // S_IJ = Z_I Z_J^T: Z_J is stored rows x d, so it enters transposed.
      kernels::cpu::gemm<float>(false, true, rows, cols, d, 1.0f, z.data() + r0 * d, z.data() + c0 * d, 0.0f,
                                s.data());
      SimilarityTile t;
      t.row0 = r0;
      t.rows = rows;
      t.col0 = c0;
      t.cols = cols;
      t.s = s.data();
      visit(t);
      if (progress) progress(++done, total);
    }
  }
}

}  // namespace cg::omics
