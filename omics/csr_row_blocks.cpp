#include "omics/csr_row_blocks.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include "omics/error.h"
#include "omics/rng.h"

namespace cg::omics {
namespace {

// The one-line conversion to CSR (dense or CSC alike) of `element` in `path`.
std::string conversion_hint(const std::string& path, const std::string& element) {
  const std::string m = element == "X" ? "a.X" : "a.layers['" + element.substr(7) + "']";
  return "convert it once with: /usr/bin/python3 -c \"import anndata, scipy.sparse as sp; a = anndata.read_h5ad('" +
         path + "'); " + m + " = sp.csr_matrix(" + m + "); a.write_h5ad('" + path + ".csr.h5ad')\"";
}

// Rows [lo, hi) of `m` appended to `out` (both CSR, same columns).
void append_rows(const CsrMatrix& m, int64_t lo, int64_t hi, CsrMatrix& out) {
  for (int64_t r = lo; r < hi; ++r) {
    for (int64_t e = m.indptr[static_cast<size_t>(r)]; e < m.indptr[static_cast<size_t>(r) + 1]; ++e) {
      out.indices.push_back(m.indices[static_cast<size_t>(e)]);
      out.data.push_back(m.data[static_cast<size_t>(e)]);
    }
    out.indptr.push_back(static_cast<int64_t>(out.data.size()));
    ++out.rows;
  }
}

// Bytes in the file now (0 when it is gone).
uint64_t file_size(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(n);
}

}  // namespace

CsrRowBlocks::CsrRowBlocks(std::string path, std::string element, int64_t block_rows)
    : path_(std::move(path)), element_(std::move(element)), block_rows_(block_rows) {
  if (block_rows_ < 1) throw DataError("block rows must be at least 1, found " + std::to_string(block_rows_));
  file_ = h5::open_file_readonly(path_);
  file_bytes_ = file_size(path_);
  const h5::Kind kind = h5::kind_of(file_, element_);
  if (kind == h5::Kind::Missing) h5::fail(path_, element_, "not found (streaming reads X or layers/NAME)");
  if (kind == h5::Kind::Dataset)
    h5::fail(path_, element_,
             "is a dense matrix; streaming from disk needs a CSR matrix: " + conversion_hint(path_, element_));
  group_ = detail::open_sparse(file_, path_, element_);
  if (group_.csc)
    h5::fail(path_, element_,
             "is a CSC matrix (column-major); streaming cells needs CSR: " + conversion_hint(path_, element_));
}

int64_t CsrRowBlocks::block_nnz(int64_t b) const {
  const int64_t lo = b * block_rows_, hi = std::min(rows(), lo + block_rows_);
  return group_.indptr[static_cast<size_t>(hi)] - group_.indptr[static_cast<size_t>(lo)];
}

CsrMatrix CsrRowBlocks::block(int64_t b) {
  if (b < 0 || b >= block_count())
    throw DataError(path_ + ": " + element_ + ": block " + std::to_string(b) + " does not exist (the matrix has " +
                    std::to_string(block_count()) + " blocks of " + std::to_string(block_rows_) + " rows)");
  const int64_t lo = b * block_rows_, hi = std::min(rows(), lo + block_rows_);
  std::vector<int64_t> rows(static_cast<size_t>(hi - lo));
  for (int64_t r = lo; r < hi; ++r) rows[static_cast<size_t>(r - lo)] = r;
  detail::Subset sub;
  sub.rows = &rows;
  const std::string which = "block " + std::to_string(b) + " (rows " + std::to_string(lo) + "-" + std::to_string(hi - 1) + ") of " + path_;
  const uint64_t now = file_size(path_);
  if (now != file_bytes_)
    throw DataError("reading " + which + ": the file changed size since it was opened (" + std::to_string(file_bytes_) +
                    " bytes, now " + std::to_string(now) + "): truncated or rewritten during the run");
  try {
    return detail::read_csr(group_, path_, element_, sub);
  } catch (const std::exception& e) {
    throw DataError("reading " + which + ": " + e.what());
  }
}

std::vector<int64_t> shuffled_blocks(int64_t block_count, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(block_count));
  for (int64_t b = 0; b < block_count; ++b) order[static_cast<size_t>(b)] = b;
  SplitMix64 rng(seed);
  fisher_yates(order, rng);
  return order;
}

BlockShuffledBatches::BlockShuffledBatches(CsrRowBlocks& source, int64_t batch_size, int64_t window_blocks,
                                           uint64_t seed, int64_t prefetch_windows)
    : source_(source),
      batch_size_(batch_size),
      window_blocks_(window_blocks),
      prefetch_windows_(prefetch_windows),
      seed_(seed) {
  if (batch_size_ < 1 || window_blocks_ < 1 || prefetch_windows_ < 1)
    throw DataError("streaming batches: batch size, window blocks and prefetch windows must be at least 1, found " +
                    std::to_string(batch_size_) + ", " + std::to_string(window_blocks_) + ", " +
                    std::to_string(prefetch_windows_));
  order_ = shuffled_blocks(source_.block_count(), seed_);
  worker_ = std::thread([this] { produce(); });
}

BlockShuffledBatches::~BlockShuffledBatches() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void BlockShuffledBatches::produce() {
  try {
    // Each window's row shuffle has its own stream (seed, window), so the batches do not depend on
    // how far ahead the thread runs.
    for (size_t w0 = 0; w0 < order_.size(); w0 += static_cast<size_t>(window_blocks_)) {
      CsrMatrix window;
      window.cols = source_.cols();
      std::vector<int64_t> file_rows;
      for (size_t k = w0; k < std::min(order_.size(), w0 + static_cast<size_t>(window_blocks_)); ++k) {
        {
          std::lock_guard<std::mutex> lock(mutex_);
          if (stop_) return;
        }
        const int64_t b = order_[k];
        const CsrMatrix block = source_.block(b);
        append_rows(block, 0, block.rows, window);
        for (int64_t r = 0; r < block.rows; ++r) file_rows.push_back(b * source_.block_rows() + r);
      }
      std::vector<int64_t> perm(file_rows.size());
      for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int64_t>(i);
      SplitMix64 rng(seed_ ^ (0x9E3779B97F4A7C15ULL * (w0 / static_cast<size_t>(window_blocks_) + 1)));
      fisher_yates(perm, rng);
      std::vector<RowBatch> batches;
      for (size_t start = 0; start < perm.size(); start += static_cast<size_t>(batch_size_)) {
        RowBatch batch;
        batch.x.cols = window.cols;
        for (size_t i = start; i < std::min(perm.size(), start + static_cast<size_t>(batch_size_)); ++i) {
          batch.rows.push_back(file_rows[static_cast<size_t>(perm[i])]);
          append_rows(window, perm[i], perm[i] + 1, batch.x);
        }
        batches.push_back(std::move(batch));
      }
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || static_cast<int64_t>(windows_.size()) < prefetch_windows_; });
      if (stop_) return;
      windows_.push_back(std::move(batches));
      peak_windows_ = std::max(peak_windows_, static_cast<int64_t>(windows_.size()) + 1);
      changed_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = true;
  changed_.notify_all();
}

bool BlockShuffledBatches::next(RowBatch& out) {
  if (next_in_current_ >= current_.size()) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return !windows_.empty() || done_ || error_; });
    if (error_ && windows_.empty()) std::rethrow_exception(error_);
    if (windows_.empty()) return false;
    current_ = std::move(windows_.front());
    windows_.pop_front();
    next_in_current_ = 0;
    changed_.notify_all();
    if (current_.empty()) return false;
  }
  out = std::move(current_[next_in_current_++]);
  return true;
}

}  // namespace cg::omics
