#include "omics/input_encoding.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "base/registry.h"
#include "omics/error.h"
#include "omics/quantile_bins.h"

namespace cg::omics {
namespace {

void check_values(const CsrMatrix& x, const std::string& what) {
  for (int64_t p = 0; p < x.nnz(); ++p) {
    const float v = x.data[static_cast<size_t>(p)];
    if (!std::isfinite(v)) throw DataError(what + ": holds a non-finite value");
    if (v < 0)
      throw DataError(what + ": holds a negative value (" + std::to_string(v) +
                      "); the rank encodings rank expression (counts or log1p of normalised counts), and negative "
                      "values look scaled");
  }
}

// Row r's values on the normalised linear scale `rank` divides by the medians: expm1 of log1p
// values, or each cell's values scaled to sum to 10,000 (Geneformer's normalisation).
std::vector<std::pair<int64_t, double>> linear_row(const CsrMatrix& x, int64_t r, bool log_input) {
  std::vector<std::pair<int64_t, double>> row;
  double total = 0;
  for (int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) total += double(x.data[static_cast<size_t>(p)]);
  for (int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) {
    const double v = double(x.data[static_cast<size_t>(p)]);
    if (v > 0) row.emplace_back(x.indices[static_cast<size_t>(p)], log_input ? std::expm1(v) : v / total * 1e4);
  }
  return row;
}

// One cell's list: genes with value / divisor > 0, highest first (ties: lower gene first, as
// omics::rank_value_encode), cut to K; each gets 1 - (mean position of its tie run) / K.
void encode_ranked(std::vector<std::pair<double, int64_t>>& cell, int64_t K, CsrMatrix& out) {
  std::sort(cell.begin(), cell.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  if (static_cast<int64_t>(cell.size()) > K) cell.resize(static_cast<size_t>(K));
  std::vector<std::pair<int64_t, float>> coded;
  for (size_t a = 0; a < cell.size();) {
    size_t b = a + 1;
    while (b < cell.size() && cell[b].first == cell[a].first) ++b;
    const double position = 0.5 * double(a + b - 1);  // 0-based: rank - 1
    for (size_t k = a; k < b; ++k)
      coded.emplace_back(cell[k].second, static_cast<float>(1.0 - position / double(K)));
    a = b;
  }
  std::sort(coded.begin(), coded.end());
  for (const auto& [g, v] : coded) {
    out.indices.push_back(g);
    out.data.push_back(v);
  }
  out.indptr.push_back(out.nnz());
}

}  // namespace

const std::vector<InputEncodingEntry>& input_encodings() {
  static const std::vector<InputEncodingEntry> entries = {
      {"rank",
       "Geneformer: each gene over its nonzero median (training cells), nonzero genes ranked per cell, top 2048; "
       "input 1 - (rank - 1) / 2048, 0 outside the list",
       2048, 0},
      {"rank-top100", "cell2sentence: the 100 highest genes per cell in order; input 1 - (rank - 1) / 100, 0 outside",
       100, 0},
      {"bins", "scGPT: per-cell quantile bins of the nonzero values (51, bin 0 = zero); input bin / 50", 0, 51},
  };
  return entries;
}

bool is_input_encoding(const std::string& name) {
  for (const auto& e : input_encodings())
    if (e.name == name) return true;
  return false;
}

const InputEncodingEntry& input_encoding_named(const std::string& name, const std::string& what) {
  return find_named(input_encodings(), name, what);
}

InputEncoding fit_input_encoding(const std::string& name, const CsrMatrix& train, bool log_input,
                                 const std::string& what) {
  input_encoding_named(name, what + ": unknown encoding");
  check_values(train, what);
  InputEncoding e;
  e.name = name;
  e.log_input = log_input;
  if (name != "rank") return e;
  std::vector<std::vector<double>> values(static_cast<size_t>(train.cols));
  for (int64_t r = 0; r < train.rows; ++r)
    for (const auto& [g, v] : linear_row(train, r, log_input)) values[static_cast<size_t>(g)].push_back(v);
  e.medians.assign(values.size(), 0.0);
  for (size_t g = 0; g < values.size(); ++g) {
    auto& v = values[g];
    if (v.empty()) continue;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    e.medians[g] = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  }
  return e;
}

EncodedCells apply_input_encoding(const InputEncoding& e, const CsrMatrix& x, const std::string& what) {
  const InputEncodingEntry& entry = input_encoding_named(e.name, what + ": unknown encoding");
  check_values(x, what);
  EncodedCells out;
  out.x.rows = x.rows;
  out.x.cols = x.cols;
  if (e.name == "bins") {
    DenseMatrix bins = quantile_bins(x, entry.n_bins);
    bins /= static_cast<float>(entry.n_bins - 1);
    out.x = CsrMatrix::from_dense(bins);
  } else {
    if (e.name == "rank" && static_cast<int64_t>(e.medians.size()) != x.cols)
      throw DataError(what + ": the rank encoding holds " + std::to_string(e.medians.size()) + " gene medians for " +
                      std::to_string(x.cols) + " genes");
    std::vector<std::pair<double, int64_t>> cell;
    for (int64_t r = 0; r < x.rows; ++r) {
      cell.clear();
      if (e.name == "rank") {
        // A gene never expressed in the training cells has no median to scale by: not ranked.
        for (const auto& [g, v] : linear_row(x, r, e.log_input))
          if (e.medians[static_cast<size_t>(g)] > 0) cell.emplace_back(v / e.medians[static_cast<size_t>(g)], g);
      } else {
        for (int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p)
          if (x.data[static_cast<size_t>(p)] > 0)
            cell.emplace_back(double(x.data[static_cast<size_t>(p)]), x.indices[static_cast<size_t>(p)]);
      }
      encode_ranked(cell, entry.list_length, out.x);
    }
  }
  for (int64_t r = 0; r < out.x.rows; ++r)
    if (out.x.indptr[r + 1] == out.x.indptr[r]) out.empty_cells.push_back(r);
  return out;
}

std::string describe_cells(const std::vector<int64_t>& rows, const std::vector<std::string>& cell_names) {
  std::string s;
  for (size_t i = 0; i < rows.size() && i < 3; ++i) {
    const size_t r = static_cast<size_t>(rows[i]);
    s += (i ? ", " : "") + (r < cell_names.size() ? "'" + cell_names[r] + "'" : "row " + std::to_string(r));
  }
  if (rows.size() > 3) s += ", ...";
  return s;
}

}  // namespace cg::omics
