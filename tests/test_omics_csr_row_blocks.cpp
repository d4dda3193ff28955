// Streaming a CSR .h5ad by blocks of rows (omics/csr_row_blocks.h): every cell once per epoch,
// block locality, seeded order, bounded read-ahead, and the errors for dense, CSC and truncated
// files.
#include <doctest/doctest.h>

#include <filesystem>
#include <set>

#include "omics/csr_row_blocks.h"
#include "omics/rng.h"
#include "tests/test_omics_io_util.h"

using namespace cg::omics;
using cg::test::contains;
using cg::test::data_error_of;
using cg::test::TempDir;

namespace {

// rows x cols with about a fifth of the entries set; row r's first entry holds r (so a cell can be
// recognised in a batch).
AnnData sparse_cells(int64_t rows, int64_t cols, bool dense = false) {
  SplitMix64 rng(3);
  CsrMatrix m;
  m.rows = rows;
  m.cols = cols;
  for (int64_t r = 0; r < rows; ++r) {
    m.indices.push_back(0);
    m.data.push_back(static_cast<float>(r));
    for (int64_t c = 1; c < cols; ++c)
      if (rng.below(5) == 0) {
        m.indices.push_back(c);
        m.data.push_back(static_cast<float>(1 + rng.below(9)));
      }
    m.indptr.push_back(static_cast<int64_t>(m.data.size()));
  }
  AnnData a;
  a.X = dense ? Matrix::from(m.to_dense()) : Matrix::from(m);
  for (int64_t r = 0; r < rows; ++r) a.obs.index.push_back("cell" + std::to_string(r));
  for (int64_t c = 0; c < cols; ++c) a.var.index.push_back("gene" + std::to_string(c));
  return a;
}

}  // namespace

TEST_CASE("CsrRowBlocks: blocks are the file's rows, read by hyperslab") {
  TempDir tmp;
  const AnnData a = sparse_cells(1000, 40);
  write_h5ad(tmp.file("cells.h5ad"), a);
  CsrRowBlocks blocks(tmp.file("cells.h5ad"), "X", 128);
  CHECK(blocks.rows() == 1000);
  CHECK(blocks.cols() == 40);
  CHECK(blocks.block_count() == 8);  // 7 full blocks and one of 104 rows
  int64_t nnz = 0;
  for (int64_t b = 0; b < blocks.block_count(); ++b) {
    const CsrMatrix m = blocks.block(b);
    CHECK(m.rows == (b < 7 ? 128 : 104));
    CHECK(m.nnz() == blocks.block_nnz(b));
    nnz += m.nnz();
    CHECK(m.data[0] == static_cast<float>(b * 128));  // the block's first cell
    const CsrMatrix& whole = a.X.csr;
    const int64_t lo = whole.indptr[static_cast<size_t>(b * 128)];
    for (int64_t e = 0; e < m.nnz(); ++e) {
      CHECK(m.indices[static_cast<size_t>(e)] == whole.indices[static_cast<size_t>(lo + e)]);
      CHECK(m.data[static_cast<size_t>(e)] == whole.data[static_cast<size_t>(lo + e)]);
    }
  }
  CHECK(nnz == a.X.csr.nnz());
  CHECK_THROWS_AS(blocks.block(8), DataError);
}

TEST_CASE("BlockShuffledBatches: every cell once per epoch, seeded, blocks kept together, bounded read-ahead") {
  TempDir tmp;
  write_h5ad(tmp.file("cells.h5ad"), sparse_cells(1000, 40));
  CsrRowBlocks blocks(tmp.file("cells.h5ad"), "X", 100);
  auto epoch = [&](uint64_t seed, int64_t window, std::vector<std::vector<int64_t>>* batches) {
    BlockShuffledBatches stream(blocks, 50, window, seed, 2);
    RowBatch batch;
    std::vector<int64_t> seen;
    while (stream.next(batch)) {
      REQUIRE(batch.x.rows == static_cast<int64_t>(batch.rows.size()));
      CHECK(batch.x.cols == 40);
      // Each cell's expression came with it: its first entry is its row number.
      for (size_t i = 0; i < batch.rows.size(); ++i)
        CHECK(batch.x.data[static_cast<size_t>(batch.x.indptr[i])] == static_cast<float>(batch.rows[i]));
      seen.insert(seen.end(), batch.rows.begin(), batch.rows.end());
      if (batches) batches->push_back(batch.rows);
    }
    CHECK(stream.peak_windows() <= 3);
    return seen;
  };
  std::vector<std::vector<int64_t>> one, again, other;
  const auto seen = epoch(7, 1, &one);
  CHECK(std::set<int64_t>(seen.begin(), seen.end()).size() == 1000);
  CHECK(seen.size() == 1000);
  CHECK(one.size() == 20);
  // Window of one block: a batch holds cells of one block only (block shuffling, not a full one).
  for (const auto& b : one) {
    std::set<int64_t> block_of;
    for (int64_t r : b) block_of.insert(r / 100);
    CHECK(block_of.size() == 1);
  }
  epoch(7, 1, &again);
  CHECK(one == again);
  epoch(8, 1, &other);
  CHECK(one != other);
  // Wider windows mix blocks within a batch.
  std::vector<std::vector<int64_t>> wide;
  epoch(7, 4, &wide);
  std::set<int64_t> blocks_in_first;
  for (int64_t r : wide.front()) blocks_in_first.insert(r / 100);
  CHECK(blocks_in_first.size() > 1);
  // Stopping early (a training run that ends mid-epoch) joins the reader without hanging.
  {
    BlockShuffledBatches stream(blocks, 10, 1, 1, 1);
    RowBatch batch;
    CHECK(stream.next(batch));
  }
}

TEST_CASE("CsrRowBlocks: a dense or missing matrix, bad sizes and a file truncated under the reader") {
  TempDir tmp;
  write_h5ad(tmp.file("dense.h5ad"), sparse_cells(20, 5, true));
  const std::string dense = data_error_of([&] { CsrRowBlocks(tmp.file("dense.h5ad")); });
  CHECK(contains(dense, "is a dense matrix; streaming from disk needs a CSR matrix"));
  CHECK(contains(dense, "a.X = sp.csr_matrix(a.X)"));
  CHECK(contains(data_error_of([&] { CsrRowBlocks(tmp.file("dense.h5ad"), "layers/counts"); }),
                 "layers/counts: not found"));
  write_h5ad(tmp.file("cells.h5ad"), sparse_cells(3000, 200));
  CHECK(contains(data_error_of([&] { CsrRowBlocks(tmp.file("cells.h5ad"), "X", 0); }), "at least 1, found 0"));
  CsrRowBlocks blocks(tmp.file("cells.h5ad"), "X", 500);
  CHECK(blocks.block(1).rows == 500);
  std::filesystem::resize_file(tmp.file("cells.h5ad"), std::filesystem::file_size(tmp.file("cells.h5ad")) / 2);
  const std::string truncated = data_error_of([&] { blocks.block(4); });
  CHECK(contains(truncated, "reading block 4 (rows 2000-2499) of " + tmp.file("cells.h5ad")));
  CHECK(contains(truncated, "changed size since it was opened"));
  // Through the stream, the error reaches the consumer.
  BlockShuffledBatches stream(blocks, 100, 1, 3);
  RowBatch batch;
  CHECK_THROWS_WITH_AS(
      [&] {
        while (stream.next(batch)) {
        }
      }(),
      doctest::Contains("changed size since it was opened"), DataError);
  // Truncated before it is opened: HDF5 refuses it at open, naming the file.
  CHECK(contains(data_error_of([&] { CsrRowBlocks(tmp.file("cells.h5ad")); }), tmp.file("cells.h5ad")));
}
