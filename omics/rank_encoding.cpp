#include "omics/rank_encoding.h"

#include <algorithm>
#include <string>

#include "omics/error.h"

namespace cg::omics {

std::vector<double> gene_nonzero_medians(const CsrMatrix& x) {
  std::vector<std::vector<float>> vals(static_cast<size_t>(x.cols));
  for (int64_t p = 0; p < x.nnz(); ++p)
    if (x.data[p] != 0.0f) vals[x.indices[p]].push_back(x.data[p]);
  std::vector<double> med(static_cast<size_t>(x.cols), 0.0);
  for (size_t g = 0; g < vals.size(); ++g) {
    auto& v = vals[g];
    if (v.empty()) continue;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    med[g] = n % 2 ? v[n / 2] : 0.5 * (double(v[n / 2 - 1]) + double(v[n / 2]));
  }
  return med;
}

std::vector<std::vector<int64_t>> rank_value_encode(const CsrMatrix& x, const std::vector<double>& medians,
                                                    int64_t max_length) {
  if (static_cast<int64_t>(medians.size()) != x.cols)
    throw DataError("rank_value_encode: " + std::to_string(medians.size()) + " medians for " + std::to_string(x.cols) +
                    " genes");
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(x.rows));
  std::vector<std::pair<double, int64_t>> cell;
  for (int64_t r = 0; r < x.rows; ++r) {
    cell.clear();
    for (int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) {
      const int64_t g = x.indices[p];
      if (x.data[p] > 0.0f && medians[g] > 0) cell.emplace_back(double(x.data[p]) / medians[g], g);
    }
    std::sort(cell.begin(), cell.end(), [](const auto& a, const auto& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    if (max_length > 0 && static_cast<int64_t>(cell.size()) > max_length) cell.resize(max_length);
    auto& o = out[static_cast<size_t>(r)];
    for (const auto& e : cell) o.push_back(e.second);
  }
  return out;
}

}  // namespace cg::omics
