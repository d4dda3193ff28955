#include "omics/h5ad_matrix_io.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "omics/error.h"
#include "omics/hdf5_util.h"

namespace cg::omics::detail {

using h5::fail;
using h5::Hid;

namespace {

// Entries (CSR) or elements (dense) read per HDF5 call when streaming: bounds the memory a
// gene-subset read needs while keeping the number of calls small.
constexpr int64_t kBlockEntries = 1 << 22;

std::vector<int64_t> checked_rows(const Subset& sub, int64_t n, const std::string& file, const std::string& key) {
  std::vector<int64_t> rows;
  if (!sub.rows) {
    rows.resize(static_cast<size_t>(n));
    std::iota(rows.begin(), rows.end(), 0);
    return rows;
  }
  for (int64_t r : *sub.rows)
    if (r < 0 || r >= n)
      fail(file, key, "requested row " + std::to_string(r) + " is outside [0, " + std::to_string(n) + ")");
  return *sub.rows;
}

// Column map old -> new (-1: dropped), or empty when all columns are kept.
std::vector<int64_t> column_map(const Subset& sub, int64_t n, const std::string& file, const std::string& key) {
  if (!sub.cols) return {};
  std::vector<int64_t> map(static_cast<size_t>(n), -1);
  for (size_t j = 0; j < sub.cols->size(); ++j) {
    int64_t c = (*sub.cols)[j];
    if (c < 0 || c >= n)
      fail(file, key, "requested column " + std::to_string(c) + " is outside [0, " + std::to_string(n) + ")");
    if (map[static_cast<size_t>(c)] >= 0) fail(file, key, "requested column " + std::to_string(c) + " twice");
    map[static_cast<size_t>(c)] = static_cast<int64_t>(j);
  }
  return map;
}

// Sorts the entries [begin, end) of a CSR row by column (a column subset may reorder them).
void sort_row(CsrMatrix& m, size_t begin, size_t end) {
  bool sorted = true;
  for (size_t k = begin + 1; k < end && sorted; ++k) sorted = m.indices[k - 1] < m.indices[k];
  if (sorted) return;
  std::vector<size_t> perm(end - begin);
  std::iota(perm.begin(), perm.end(), begin);
  std::sort(perm.begin(), perm.end(), [&](size_t a, size_t b) { return m.indices[a] < m.indices[b]; });
  std::vector<int64_t> idx;
  std::vector<float> val;
  for (size_t p : perm) {
    idx.push_back(m.indices[p]);
    val.push_back(m.data[p]);
  }
  std::copy(idx.begin(), idx.end(), m.indices.begin() + static_cast<std::ptrdiff_t>(begin));
  std::copy(val.begin(), val.end(), m.data.begin() + static_cast<std::ptrdiff_t>(begin));
}


}  // namespace

// Checks everything that does not need the full data/indices.
SparseGroup open_sparse(hid_t loc, const std::string& file, const std::string& key) {
  SparseGroup s;
  Hid g = h5::open_group(loc, file, key);
  std::string enc = h5::read_string_attr(g, "encoding-type", file, key);
  std::string shape_attr = "shape";
  if (enc.empty()) {
    // anndata < 0.7 marked sparse groups with h5sparse_format / h5sparse_shape.
    std::string legacy = h5::read_string_attr(g, "h5sparse_format", file, key);
    if (legacy == "csr" || legacy == "csc") {
      enc = legacy + "_matrix";
      shape_attr = "h5sparse_shape";
    }
  }
  if (enc != "csr_matrix" && enc != "csc_matrix")
    fail(file, key, "group has encoding-type '" + enc + "', expected csr_matrix or csc_matrix");
  s.csc = enc == "csc_matrix";
  auto shape = h5::read_int_array_attr(g, shape_attr, file, key);
  if (shape.size() != 2 || shape[0] < 0 || shape[1] < 0)
    fail(file, key, "attribute '" + shape_attr + "' should hold two non-negative sizes");
  s.rows = shape[0];
  s.cols = shape[1];
  const int64_t major = s.csc ? s.cols : s.rows;

  s.data = h5::open_dataset(g, file, "data", key + "/data");
  s.indices = h5::open_dataset(g, file, "indices", key + "/indices");
  Hid indptr = h5::open_dataset(g, file, "indptr", key + "/indptr");
  auto di = h5::info(s.data, file, key + "/data");
  auto ii = h5::info(s.indices, file, key + "/indices");
  auto pi = h5::info(indptr, file, key + "/indptr");
  if (di.dims.size() != 1 || !di.is_numeric())
    fail(file, key + "/data",
         "expected a 1-D numeric dataset, found rank " + std::to_string(di.dims.size()) + " " + h5::class_name(di.cls));
  for (auto* p : {&ii, &pi})
    if (p->dims.size() != 1 || (p->cls != H5T_INTEGER))
      fail(file, key + (p == &ii ? "/indices" : "/indptr"),
           "expected a 1-D integer dataset, found rank " + std::to_string(p->dims.size()) + " " +
               h5::class_name(p->cls));
  if (pi.dims[0] != static_cast<uint64_t>(major) + 1)
    fail(file, key + "/indptr",
         "has " + std::to_string(pi.dims[0]) + " entries, expected " + std::to_string(major + 1) + " (" +
             (s.csc ? "columns" : "rows") + " + 1)");
  if (ii.dims[0] != di.dims[0])
    fail(file, key,
         "nnz mismatch: indices holds " + std::to_string(ii.dims[0]) + " entries but data holds " +
             std::to_string(di.dims[0]));
  if (di.dims[0] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    fail(file, key + "/data", "impossibly many entries");
  s.nnz = static_cast<int64_t>(di.dims[0]);
  // Guard the whole arrays even for a partial read: a file that lies about them is corrupt.
  h5::check_plausible_size(s.data, file, key + "/data", di.dims[0], di.type_size);
  h5::check_plausible_size(s.indices, file, key + "/indices", ii.dims[0], ii.type_size);
  s.indptr = h5::read_all<int64_t>(indptr.get(), file, key + "/indptr");
  if (s.indptr[0] != 0) fail(file, key + "/indptr", "starts at " + std::to_string(s.indptr[0]) + ", expected 0");
  for (int64_t i = 0; i < major; ++i)
    if (s.indptr[i + 1] < s.indptr[i]) fail(file, key + "/indptr", "decreases at position " + std::to_string(i + 1));
  if (s.indptr[major] != s.nnz)
    fail(file, key + "/indptr",
         "ends at " + std::to_string(s.indptr[major]) + " but data holds " + std::to_string(s.nnz) +
             " entries (nnz mismatch)");
  return s;
}

CsrMatrix read_csr(SparseGroup& s, const std::string& file, const std::string& key, const Subset& sub) {
  std::vector<int64_t> rows = checked_rows(sub, s.rows, file, key);
  std::vector<int64_t> cmap = column_map(sub, s.cols, file, key);
  CsrMatrix m;
  m.rows = static_cast<int64_t>(rows.size());
  m.cols = sub.cols ? static_cast<int64_t>(sub.cols->size()) : s.cols;
  m.indptr.assign(1, 0);
  m.indptr.reserve(rows.size() + 1);
  if (!sub.cols) {
    int64_t total = 0;
    for (int64_t r : rows) total += s.indptr[r + 1] - s.indptr[r];
    m.data.reserve(static_cast<size_t>(total));
    m.indices.reserve(static_cast<size_t>(total));
  }
  std::vector<float> vals;
  std::vector<int64_t> idx;
  size_t i = 0;
  while (i < rows.size()) {
    // A block: consecutive source rows (contiguous in data/indices), at most kBlockEntries.
    const int64_t lo = s.indptr[rows[i]];
    size_t j = i + 1;
    while (j < rows.size() && rows[j] == rows[j - 1] + 1 && s.indptr[rows[j] + 1] - lo <= kBlockEntries) ++j;
    const int64_t hi = s.indptr[rows[j - 1] + 1];
    const auto n = static_cast<uint64_t>(hi - lo);
    vals.resize(n);
    idx.resize(n);
    h5::read_block<float>(s.data, file, key + "/data", {static_cast<uint64_t>(lo)}, {n}, vals.data());
    h5::read_block<int64_t>(s.indices, file, key + "/indices", {static_cast<uint64_t>(lo)}, {n}, idx.data());
    for (size_t k = i; k < j; ++k) {
      const size_t row_begin = m.data.size();
      for (int64_t e = s.indptr[rows[k]]; e < s.indptr[rows[k] + 1]; ++e) {
        int64_t c = idx[static_cast<size_t>(e - lo)];
        if (c < 0 || c >= s.cols)
          fail(file, key + "/indices",
               "entry " + std::to_string(e) + " is column " + std::to_string(c) + ", outside [0, " +
                   std::to_string(s.cols) + ")");
        if (!cmap.empty()) {
          c = cmap[static_cast<size_t>(c)];
          if (c < 0) continue;
        }
        m.indices.push_back(c);
        m.data.push_back(vals[static_cast<size_t>(e - lo)]);
      }
      if (!cmap.empty()) sort_row(m, row_begin, m.data.size());
      m.indptr.push_back(static_cast<int64_t>(m.data.size()));
    }
    i = j;
  }
  return m;
}

namespace {

// CSC is read whole, transposed to CSR by counting sort, then subset in memory.
CsrMatrix read_csc(SparseGroup& s, const std::string& file, const std::string& key, const Subset& sub) {
  auto vals = h5::read_all<float>(s.data.get(), file, key + "/data");
  auto idx = h5::read_all<int64_t>(s.indices.get(), file, key + "/indices");
  CsrMatrix m;
  m.rows = s.rows;
  m.cols = s.cols;
  m.indptr.assign(static_cast<size_t>(s.rows) + 1, 0);
  for (size_t e = 0; e < idx.size(); ++e) {
    if (idx[e] < 0 || idx[e] >= s.rows)
      fail(file, key + "/indices",
           "entry " + std::to_string(e) + " is row " + std::to_string(idx[e]) + ", outside [0, " +
               std::to_string(s.rows) + ")");
    ++m.indptr[static_cast<size_t>(idx[e]) + 1];
  }
  for (int64_t r = 0; r < s.rows; ++r) m.indptr[r + 1] += m.indptr[r];
  m.data.resize(vals.size());
  m.indices.resize(vals.size());
  std::vector<int64_t> next(m.indptr.begin(), m.indptr.end() - 1);
  for (int64_t c = 0; c < s.cols; ++c)
    for (int64_t e = s.indptr[c]; e < s.indptr[c + 1]; ++e) {
      auto pos = static_cast<size_t>(next[static_cast<size_t>(idx[e])]++);
      m.data[pos] = vals[e];
      m.indices[pos] = c;
    }
  if (!sub.rows && !sub.cols) return m;
  return take(m, sub, file, key);
}

}  // namespace

void validate_csr(const CsrMatrix& m, const std::string& what) {
  if (m.rows < 0 || m.cols < 0) throw DataError(what + ": negative shape");
  if (m.indptr.size() != static_cast<size_t>(m.rows) + 1)
    throw DataError(what + ": indptr has " + std::to_string(m.indptr.size()) +
                    " entries, expected rows + 1 = " + std::to_string(m.rows + 1));
  if (m.indices.size() != m.data.size())
    throw DataError(what + ": nnz mismatch: " + std::to_string(m.indices.size()) + " indices, " +
                    std::to_string(m.data.size()) + " values");
  if (m.indptr.front() != 0 || m.indptr.back() != m.nnz())
    throw DataError(what + ": indptr must run from 0 to nnz = " + std::to_string(m.nnz()));
  for (int64_t r = 0; r < m.rows; ++r)
    if (m.indptr[r + 1] < m.indptr[r]) throw DataError(what + ": indptr decreases at row " + std::to_string(r));
  for (size_t e = 0; e < m.indices.size(); ++e)
    if (m.indices[e] < 0 || m.indices[e] >= m.cols)
      throw DataError(what + ": index " + std::to_string(m.indices[e]) + " at entry " + std::to_string(e) +
                      " outside [0, " + std::to_string(m.cols) + ")");
}

CsrMatrix take(const CsrMatrix& src, const Subset& sub, const std::string& file, const std::string& key) {
  std::vector<int64_t> rows = checked_rows(sub, src.rows, file, key);
  std::vector<int64_t> cmap = column_map(sub, src.cols, file, key);
  CsrMatrix m;
  m.rows = static_cast<int64_t>(rows.size());
  m.cols = sub.cols ? static_cast<int64_t>(sub.cols->size()) : src.cols;
  m.indptr.assign(1, 0);
  for (int64_t r : rows) {
    const size_t begin = m.data.size();
    for (int64_t e = src.indptr[r]; e < src.indptr[r + 1]; ++e) {
      int64_t c = src.indices[e];
      if (!cmap.empty() && (c = cmap[static_cast<size_t>(c)]) < 0) continue;
      m.indices.push_back(c);
      m.data.push_back(src.data[e]);
    }
    if (!cmap.empty()) sort_row(m, begin, m.data.size());
    m.indptr.push_back(static_cast<int64_t>(m.data.size()));
  }
  return m;
}

DenseMatrix read_dense(hid_t loc, const std::string& file, const std::string& key, const Subset& sub) {
  Hid d = h5::open_dataset(loc, file, key);
  auto di = h5::info(d, file, key);
  if (!di.is_numeric()) fail(file, key, std::string("expected numeric data, found ") + h5::class_name(di.cls));
  if (di.dims.size() != 2) fail(file, key, "expected a 2-D matrix, found rank " + std::to_string(di.dims.size()));
  const uint64_t R = di.dims[0], C = di.dims[1];
  if (R > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()) ||
      C > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()))
    fail(file, key, "dimensions " + std::to_string(R) + " x " + std::to_string(C) + " too large");
  h5::check_plausible_size(d, file, key, di.n_elements(), di.type_size);
  if (!sub.rows && !sub.cols) {
    DenseMatrix m(static_cast<Eigen::Index>(R), static_cast<Eigen::Index>(C));
    h5::read_block<float>(d, file, key, {0, 0}, {R, C}, m.data());
    return m;
  }
  std::vector<int64_t> rows = checked_rows(sub, static_cast<int64_t>(R), file, key);
  std::vector<int64_t> cmap = column_map(sub, static_cast<int64_t>(C), file, key);
  const int64_t out_cols = sub.cols ? static_cast<int64_t>(sub.cols->size()) : static_cast<int64_t>(C);
  DenseMatrix m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(out_cols));
  // Visit the wanted source rows in file order, each once, copying to every output position.
  std::vector<size_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rows[a] < rows[b]; });
  const uint64_t rows_per_block =
      std::max<uint64_t>(1, static_cast<uint64_t>(kBlockEntries) / std::max<uint64_t>(C, 1));
  std::vector<float> buf;
  size_t i = 0;
  while (i < order.size()) {
    const int64_t r0 = rows[order[i]];
    size_t j = i + 1;
    int64_t last = r0;
    while (j < order.size() && rows[order[j]] - last <= 1 &&
           static_cast<uint64_t>(rows[order[j]] - r0) < rows_per_block)
      last = rows[order[j++]];
    const uint64_t n = static_cast<uint64_t>(last - r0 + 1);
    buf.resize(n * C);
    h5::read_block<float>(d, file, key, {static_cast<uint64_t>(r0), 0}, {n, C}, buf.data());
    for (size_t k = i; k < j; ++k) {
      const float* src = buf.data() + static_cast<size_t>(rows[order[k]] - r0) * C;
      float* dst = m.data() + order[k] * static_cast<size_t>(out_cols);
      if (cmap.empty()) {
        std::copy(src, src + C, dst);
      } else {
        for (uint64_t c = 0; c < C; ++c)
          if (cmap[c] >= 0) dst[cmap[c]] = src[c];
      }
    }
    i = j;
  }
  return m;
}

Matrix read_matrix(hid_t loc, const std::string& file, const std::string& key, const Subset& sub) {
  h5::Kind k = h5::kind_of(loc, key);
  if (k == h5::Kind::Missing) fail(file, key, "missing");
  if (k == h5::Kind::Dataset) return Matrix::from(read_dense(loc, file, key, sub));
  if (k != h5::Kind::Group) fail(file, key, "is neither a dataset nor a group");
  SparseGroup s = open_sparse(loc, file, key);
  return Matrix::from(s.csc ? read_csc(s, file, key, sub) : read_csr(s, file, key, sub));
}

void write_dense(hid_t loc, const std::string& name, const DenseMatrix& m, int gzip_level) {
  h5::write_numeric(loc, name, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE,
                    {static_cast<uint64_t>(m.rows()), static_cast<uint64_t>(m.cols())}, m.data(), gzip_level);
  Hid d(H5Dopen2(loc, name.c_str(), H5P_DEFAULT));
  h5::write_encoding(d, "array", "0.2.0");
}

void write_matrix(hid_t loc, const std::string& name, const Matrix& m, int gzip_level) {
  if (!m.sparse) return write_dense(loc, name, m.dense, gzip_level);
  const CsrMatrix& s = m.csr;
  validate_csr(s, name);
  Hid g = h5::create_group(loc, name);
  h5::write_encoding(g, "csr_matrix", "0.1.0");
  h5::write_int64_array_attr(g, "shape", {s.rows, s.cols});
  const uint64_t nnz = static_cast<uint64_t>(s.nnz());
  h5::write_numeric(g, "data", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, {nnz}, s.data.data(), gzip_level);
  // int32 indices when they fit, as scipy writes them; int64 otherwise.
  auto write_index = [&](const char* what, const std::vector<int64_t>& v, bool fits32) {
    if (fits32) {
      std::vector<int32_t> v32(v.begin(), v.end());
      h5::write_numeric(g, what, H5T_NATIVE_INT32, H5T_STD_I32LE, {v.size()}, v32.data(), gzip_level);
    } else {
      h5::write_numeric(g, what, H5T_NATIVE_INT64, H5T_STD_I64LE, {v.size()}, v.data(), gzip_level);
    }
  };
  const int64_t i32max = std::numeric_limits<int32_t>::max();
  write_index("indices", s.indices, s.cols <= i32max);
  write_index("indptr", s.indptr, s.nnz() <= i32max);
}

}  // namespace cg::omics::detail
