#include "omics/filter.h"

#include <string>

#include "omics/counts_check.h"
#include "omics/error.h"

namespace cg::omics {
namespace {

void check_index(int64_t i, int64_t n, const char* fn, const char* what) {
  if (i < 0 || i >= n)
    throw DataError(std::string(fn) + ": " + what + " index " + std::to_string(i) + " outside [0, " +
                    std::to_string(n) + ")");
}

}  // namespace

std::vector<int64_t> filter_cells(const CsrMatrix& x, const CellFilter& f, std::string_view name) {
  require_counts(x, name);
  std::vector<int64_t> kept;
  for (int64_t r = 0; r < x.rows; ++r) {
    double total = 0;
    int64_t genes = 0;
    for (int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p) {
      total += x.data[p];
      genes += x.data[p] > 0.0f;
    }
    if (total >= f.min_counts && total <= f.max_counts && genes >= f.min_genes && genes <= f.max_genes)
      kept.push_back(r);
  }
  return kept;
}

std::vector<int64_t> filter_genes(const CsrMatrix& x, const GeneFilter& f, std::string_view name) {
  require_counts(x, name);
  std::vector<double> total(static_cast<size_t>(x.cols), 0.0);
  std::vector<int64_t> cells(static_cast<size_t>(x.cols), 0);
  for (int64_t p = 0; p < x.nnz(); ++p) {
    total[x.indices[p]] += x.data[p];
    cells[x.indices[p]] += x.data[p] > 0.0f;
  }
  std::vector<int64_t> kept;
  for (int64_t c = 0; c < x.cols; ++c)
    if (total[c] >= f.min_counts && total[c] <= f.max_counts && cells[c] >= f.min_cells && cells[c] <= f.max_cells)
      kept.push_back(c);
  return kept;
}

CsrMatrix csr_select_rows(const CsrMatrix& x, const std::vector<int64_t>& rows) {
  CsrMatrix out;
  out.rows = static_cast<int64_t>(rows.size());
  out.cols = x.cols;
  out.indptr.assign(1, 0);
  for (int64_t r : rows) {
    check_index(r, x.rows, "csr_select_rows", "row");
    out.data.insert(out.data.end(), x.data.begin() + x.indptr[r], x.data.begin() + x.indptr[r + 1]);
    out.indices.insert(out.indices.end(), x.indices.begin() + x.indptr[r], x.indices.begin() + x.indptr[r + 1]);
    out.indptr.push_back(out.nnz());
  }
  return out;
}

CsrMatrix csr_select_cols(const CsrMatrix& x, const std::vector<int64_t>& cols) {
  // Map each old column to its new positions (a column may be selected more than once).
  std::vector<std::vector<int64_t>> where(static_cast<size_t>(x.cols));
  for (size_t j = 0; j < cols.size(); ++j) {
    check_index(cols[j], x.cols, "csr_select_cols", "column");
    where[cols[j]].push_back(static_cast<int64_t>(j));
  }
  CsrMatrix out;
  out.rows = x.rows;
  out.cols = static_cast<int64_t>(cols.size());
  out.indptr.assign(1, 0);
  for (int64_t r = 0; r < x.rows; ++r) {
    for (int64_t p = x.indptr[r]; p < x.indptr[r + 1]; ++p)
      for (int64_t j : where[x.indices[p]]) {
        out.data.push_back(x.data[p]);
        out.indices.push_back(j);
      }
    out.indptr.push_back(out.nnz());
  }
  return out;
}

DenseMatrix dense_select_rows(const DenseMatrix& x, const std::vector<int64_t>& rows) {
  DenseMatrix out(static_cast<Eigen::Index>(rows.size()), x.cols());
  for (size_t i = 0; i < rows.size(); ++i) {
    check_index(rows[i], x.rows(), "dense_select_rows", "row");
    out.row(static_cast<Eigen::Index>(i)) = x.row(rows[i]);
  }
  return out;
}

DenseMatrix dense_select_cols(const DenseMatrix& x, const std::vector<int64_t>& cols) {
  DenseMatrix out(x.rows(), static_cast<Eigen::Index>(cols.size()));
  for (size_t j = 0; j < cols.size(); ++j) {
    check_index(cols[j], x.cols(), "dense_select_cols", "column");
    out.col(static_cast<Eigen::Index>(j)) = x.col(cols[j]);
  }
  return out;
}

}  // namespace cg::omics
