// Reading cells from disk for files larger than memory (issue 18), not a test: one epoch of
// block-shuffled minibatches streamed from a CSR .h5ad (omics::BlockShuffledBatches) against
// loading the same X whole into memory (omics::read_h5ad, the in-memory path both apps take
// today). Reports cells per second and the process's peak resident memory after each (the
// streamed epoch runs first, so its peak is its own).
// Usage: bench_stream_read [FILE.h5ad [BLOCK_ROWS [WINDOW_BLOCKS [BATCH]]]]
// Without FILE it builds /tmp/cellgrad_scale_200k.h5ad (200,000 resampled Kang cells) once with
// scripts/make_scale_file.py; a 1,000,000-cell file is the scale bar:
//   /usr/bin/python3 scripts/make_scale_file.py /tmp/kang_1m.h5ad 1000000 && build/bin/bench_stream_read /tmp/kang_1m.h5ad
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "omics/anndata.h"
#include "omics/csr_row_blocks.h"

using namespace cg::omics;

namespace {

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string file = argc > 1 ? argv[1] : "/tmp/cellgrad_scale_200k.h5ad";
  const int64_t block_rows = argc > 2 ? std::atoll(argv[2]) : 1024;
  const int64_t window = argc > 3 ? std::atoll(argv[3]) : 8;
  const int64_t batch = argc > 4 ? std::atoll(argv[4]) : 512;
  try {
    if (argc <= 1 && !std::filesystem::exists(file)) {
      std::printf("building %s (200,000 resampled Kang cells) with scripts/make_scale_file.py ...\n", file.c_str());
      std::fflush(stdout);
      const std::string cmd = "/usr/bin/python3 scripts/make_scale_file.py " + file + " 200000";
      if (std::system(cmd.c_str()) != 0) {
        std::fprintf(stderr, "bench_stream_read: could not build %s (run from the repository root, with ../shared)\n",
                     file.c_str());
        return 1;
      }
    }
    const double start_mb = peak_rss_mb();
    CsrRowBlocks blocks(file, "X", block_rows);
    std::printf("%s: %ld cells x %ld genes, %ld stored values (%.2f GB as CSR in memory)\n", file.c_str(),
                blocks.rows(), blocks.cols(), blocks.nnz(), blocks.nnz() * 8.0 / 1e9);
    std::printf("streamed: blocks of %ld rows, windows of %ld blocks, batches of %ld, 2 windows read ahead\n\n",
                block_rows, window, batch);
    auto t0 = std::chrono::steady_clock::now();
    int64_t cells = 0, values = 0;
    {
      BlockShuffledBatches stream(blocks, batch, window, 1);
      RowBatch b;
      while (stream.next(b)) {
        cells += b.x.rows;
        values += b.x.nnz();
      }
    }
    const double stream_s = seconds_since(t0), stream_mb = peak_rss_mb();
    std::printf("%-22s %10.2f s %12.0f cells/s   peak RSS %8.0f MB (%.0f MB before)\n", "streamed epoch", stream_s,
                cells / stream_s, stream_mb, start_mb);
    if (cells != blocks.rows() || values != blocks.nnz()) {
      std::fprintf(stderr, "bench_stream_read: the epoch saw %ld cells / %ld values, expected %ld / %ld\n", cells,
                   values, blocks.rows(), blocks.nnz());
      return 1;
    }
    ReadOptions opt;
    opt.load_layers = opt.load_obsm = opt.load_uns = false;
    t0 = std::chrono::steady_clock::now();
    const AnnData whole = read_h5ad(file, opt);
    const double load_s = seconds_since(t0);
    std::printf("%-22s %10.2f s %12.0f cells/s   peak RSS %8.0f MB\n", "in memory (read_h5ad)", load_s,
                whole.n_obs() / load_s, peak_rss_mb());
    std::printf("\nratio streamed / in-memory read throughput: %.2f\n", (cells / stream_s) / (whole.n_obs() / load_s));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_stream_read: %s\n", e.what());
    return 1;
  }
  return 0;
}
