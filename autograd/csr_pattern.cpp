#include "autograd/csr_pattern.h"

#include <algorithm>
#include <limits>

#include "autograd/error.h"

namespace cg {

CsrPattern CsrPattern::from_rows(const std::vector<std::vector<int64_t>>& members, int64_t cols, Device device) {
  CG_CHECK(cols > 0, "CsrPattern: expected a positive number of columns, found " << cols);
  int64_t nnz = 0;
  for (const auto& row : members) nnz += static_cast<int64_t>(row.size());
  CG_CHECK(nnz < std::numeric_limits<int32_t>::max() && cols < std::numeric_limits<int32_t>::max() &&
               static_cast<int64_t>(members.size()) < std::numeric_limits<int32_t>::max(),
           "CsrPattern: " << members.size() << " rows x " << cols << " columns with " << nnz
                          << " entries do not fit int32 indices");
  std::vector<int32_t> row_ptr{0}, col_index;
  col_index.reserve(static_cast<size_t>(nnz));
  for (size_t p = 0; p < members.size(); ++p) {
    std::vector<int64_t> row = members[p];
    std::sort(row.begin(), row.end());
    for (size_t k = 0; k < row.size(); ++k) {
      CG_CHECK(row[k] >= 0 && row[k] < cols, "CsrPattern: row " << p << " names column " << row[k]
                                                                << ", expected one in [0, " << cols << ")");
      CG_CHECK(k == 0 || row[k] != row[k - 1], "CsrPattern: row " << p << " names column " << row[k] << " twice");
      col_index.push_back(static_cast<int32_t>(row[k]));
    }
    row_ptr.push_back(static_cast<int32_t>(col_index.size()));
  }
  return from_csr(row_ptr, col_index, cols, device);
}

CsrPattern CsrPattern::from_csr(const std::vector<int32_t>& row_ptr, const std::vector<int32_t>& col_index,
                                int64_t cols, Device device) {
  CG_CHECK(cols > 0 && cols < std::numeric_limits<int32_t>::max(),
           "CsrPattern: expected a number of columns in [1, 2^31), found " << cols);
  CG_CHECK(!row_ptr.empty() && row_ptr.front() == 0,
           "CsrPattern: expected row pointers starting at 0, found "
               << (row_ptr.empty() ? std::string("none") : std::to_string(row_ptr.front())));
  const int64_t rows = static_cast<int64_t>(row_ptr.size()) - 1, nnz = static_cast<int64_t>(col_index.size());
  for (int64_t r = 0; r < rows; ++r)
    CG_CHECK(row_ptr[static_cast<size_t>(r)] <= row_ptr[static_cast<size_t>(r) + 1],
             "CsrPattern: row pointers decrease at row " << r << " (" << row_ptr[static_cast<size_t>(r)] << " then "
                                                         << row_ptr[static_cast<size_t>(r) + 1] << ")");
  CG_CHECK(row_ptr.back() == nnz, "CsrPattern: the last row pointer is " << row_ptr.back() << " but there are "
                                                                         << nnz << " column indices");
  // Counting sort of the entries by column: ascending entry order within each column.
  std::vector<int32_t> col_ptr(static_cast<size_t>(cols) + 1, 0), entry_row(static_cast<size_t>(nnz));
  for (int64_t r = 0; r < rows; ++r)
    for (int32_t e = row_ptr[static_cast<size_t>(r)]; e < row_ptr[static_cast<size_t>(r) + 1]; ++e) {
      const int32_t c = col_index[static_cast<size_t>(e)];
      CG_CHECK(c >= 0 && c < cols, "CsrPattern: row " << r << " names column " << c << ", expected one in [0, "
                                                      << cols << ")");
      entry_row[static_cast<size_t>(e)] = static_cast<int32_t>(r);
      ++col_ptr[static_cast<size_t>(c) + 1];
    }
  for (size_t c = 1; c < col_ptr.size(); ++c) col_ptr[c] += col_ptr[c - 1];
  std::vector<int32_t> col_entries(static_cast<size_t>(nnz)), fill(col_ptr.begin(), col_ptr.end() - 1);
  for (int64_t e = 0; e < nnz; ++e)
    col_entries[static_cast<size_t>(fill[static_cast<size_t>(col_index[static_cast<size_t>(e)])]++)] =
        static_cast<int32_t>(e);
  CsrPattern out;
  out.rows = rows;
  out.cols = cols;
  out.nnz = nnz;
  out.row_ptr = Tensor::from_indices(row_ptr, device);
  out.col_index = Tensor::from_indices(col_index, device);
  out.entry_row = Tensor::from_indices(entry_row, device);
  out.col_ptr = Tensor::from_indices(col_ptr, device);
  out.col_entries = Tensor::from_indices(col_entries, device);
  return out;
}

CsrPattern CsrPattern::to(Device device) const {
  CsrPattern out = *this;
  for (Tensor* t : {&out.row_ptr, &out.col_index, &out.entry_row, &out.col_ptr, &out.col_entries}) *t = t->to(device);
  return out;
}

std::vector<std::vector<int64_t>> CsrPattern::members() const {
  const auto ptr = row_ptr.to_vector<int32_t>(), col = col_index.to_vector<int32_t>();
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(rows));
  for (int64_t p = 0; p < rows; ++p)
    for (int32_t e = ptr[static_cast<size_t>(p)]; e < ptr[static_cast<size_t>(p) + 1]; ++e)
      out[static_cast<size_t>(p)].push_back(col[static_cast<size_t>(e)]);
  return out;
}

kernels::CsrIndex CsrPattern::index() const {
  kernels::CsrIndex idx;
  idx.row_ptr = row_ptr.data<int32_t>();
  idx.col_index = col_index.data<int32_t>();
  idx.entry_row = entry_row.data<int32_t>();
  idx.col_ptr = col_ptr.data<int32_t>();
  idx.col_entries = col_entries.data<int32_t>();
  return idx;
}

// ---- CsrMatrix ---------------------------------------------------------------------------------

CsrMatrix CsrMatrix::from_csr(const std::vector<int32_t>& row_ptr, const std::vector<int32_t>& col_index,
                              const std::vector<float>& values, int64_t cols, Device device) {
  CG_CHECK(values.size() == col_index.size(), "CsrMatrix: expected one value per column index ("
                                                  << col_index.size() << "), found " << values.size());
  CsrMatrix m;
  m.pattern = CsrPattern::from_csr(row_ptr, col_index, cols, device);
  m.values = Tensor::from_vector(values, {static_cast<int64_t>(values.size())}, device);
  return m;
}

CsrMatrix CsrMatrix::from_dense(const Tensor& dense) {
  CG_CHECK(dense.defined() && dense.rank() == 2 && dense.device() == Device::CPU &&
               (dense.dtype() == DType::F32 || dense.dtype() == DType::F64),
           "CsrMatrix::from_dense: expected a 2-D float CPU tensor, found "
               << (dense.defined() ? dense.describe() : std::string("none")));
  const std::vector<double> v = dense.to_vector<double>();
  const int64_t rows = dense.dim(0), cols = dense.dim(1);
  std::vector<int32_t> row_ptr{0}, col_index;
  std::vector<double> values;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c)
      if (v[static_cast<size_t>(r * cols + c)] != 0) {
        col_index.push_back(static_cast<int32_t>(c));
        values.push_back(v[static_cast<size_t>(r * cols + c)]);
      }
    row_ptr.push_back(static_cast<int32_t>(col_index.size()));
  }
  CsrMatrix m;
  m.pattern = CsrPattern::from_csr(row_ptr, col_index, cols);
  m.values = Tensor::from_vector(values, {static_cast<int64_t>(values.size())}).to(dense.dtype());
  return m;
}

CsrMatrix CsrMatrix::to(Device device) const {
  CsrMatrix m;
  m.pattern = pattern.to(device);
  m.values = values.to(device);
  return m;
}

Tensor CsrMatrix::to_dense() const {
  const auto ptr = pattern.row_ptr.to_vector<int32_t>(), col = pattern.col_index.to_vector<int32_t>();
  const std::vector<double> v = values.to_vector<double>();
  std::vector<double> dense(static_cast<size_t>(rows() * cols()), 0.0);
  for (int64_t r = 0; r < rows(); ++r)
    for (int32_t e = ptr[static_cast<size_t>(r)]; e < ptr[static_cast<size_t>(r) + 1]; ++e)
      dense[static_cast<size_t>(r * cols() + col[static_cast<size_t>(e)])] += v[static_cast<size_t>(e)];
  return Tensor::from_vector(dense, {rows(), cols()}).to(values.dtype()).to(device());
}

}  // namespace cg
