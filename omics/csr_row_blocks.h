#pragma once
// Streaming the cells of a CSR .h5ad matrix (X or a layer) from disk in blocks of rows, for files
// larger than memory (issue 18, --backed). Memory is bounded by a few windows of blocks whatever
// the cell count: only indptr (8 bytes per cell) is held whole.
//
// Order: block shuffling as scDataset does it. Contiguous blocks of `block_rows` rows are read
// with one HDF5 hyperslab each (sequential disk reads); the blocks are visited in a seeded random
// order, `window_blocks` at a time, and the rows of a window are shuffled together before being
// cut into batches. Larger windows approach a full shuffle; block_rows 1 is a full shuffle.
//
// HDF5 (Debian's build) is not thread-safe: while a BlockShuffledBatches runs its prefetch thread,
// that thread must be the only one calling HDF5 (the training loop reads no other file during an
// epoch; the stream is finished or destroyed before checkpoints are written).
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "omics/h5ad_matrix_io.h"
#include "omics/matrix.h"

namespace cg::omics {

class CsrRowBlocks {
 public:
  // element: "X" or "layers/NAME". DataError naming the file when it cannot be opened, when the
  // element is missing, or when it is dense or CSC (with the one-line conversion to CSR).
  CsrRowBlocks(std::string path, std::string element = "X", int64_t block_rows = 1024);
  int64_t rows() const { return group_.rows; }
  int64_t cols() const { return group_.cols; }
  int64_t nnz() const { return group_.nnz; }
  int64_t block_rows() const { return block_rows_; }
  int64_t block_count() const { return (rows() + block_rows_ - 1) / block_rows_; }
  // The stored entries of block b (8 bytes each in memory).
  int64_t block_nnz(int64_t b) const;
  // Rows [b * block_rows, min(rows, (b + 1) * block_rows)). A read failure, or a file whose size
  // changed since it was opened (HDF5 reads zeros past the end of a file truncated under it), is
  // a DataError naming the block, its rows and the file.
  CsrMatrix block(int64_t b);
  const std::string& path() const { return path_; }

 private:
  std::string path_, element_;
  int64_t block_rows_;
  uint64_t file_bytes_ = 0;  // size at open
  h5::Hid file_;
  detail::SparseGroup group_;
};

// The visiting order of one epoch: the blocks in a seeded random order (every block once).
std::vector<int64_t> shuffled_blocks(int64_t block_count, uint64_t seed);

// One minibatch: the file's row numbers of its cells and their expression (CSR, same order).
struct RowBatch {
  std::vector<int64_t> rows;
  CsrMatrix x;
};

// One epoch of minibatches read ahead by a background thread (at most `prefetch_windows` windows
// waiting), so reading overlaps compute. The same seed gives the same batches.
class BlockShuffledBatches {
 public:
  BlockShuffledBatches(CsrRowBlocks& source, int64_t batch_size, int64_t window_blocks, uint64_t seed,
                       int64_t prefetch_windows = 2);
  ~BlockShuffledBatches();
  BlockShuffledBatches(const BlockShuffledBatches&) = delete;
  BlockShuffledBatches& operator=(const BlockShuffledBatches&) = delete;
  // The next batch; false at the end of the epoch. A read error in the prefetch thread is
  // rethrown here.
  bool next(RowBatch& out);
  // Largest number of windows held at once (read ahead plus the one being consumed).
  int64_t peak_windows() const { return peak_windows_; }

 private:
  void produce();
  CsrRowBlocks& source_;
  int64_t batch_size_, window_blocks_, prefetch_windows_;
  uint64_t seed_;
  std::vector<int64_t> order_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<RowBatch>> windows_;  // read, shuffled and cut into batches
  std::vector<RowBatch> current_;
  size_t next_in_current_ = 0;
  bool done_ = false, stop_ = false;
  std::exception_ptr error_;
  int64_t peak_windows_ = 0;
  std::thread worker_;
};

}  // namespace cg::omics
