// The sparse first layer (issue 18 item 2), not a test: one training step of an encoder's first
// Linear (6998 genes -> 800, scGen's width) on batches of real Kang cells (log-normalised, 4.7%
// nonzero), with the batch dense (matmul) and as CSR (csr_matmul, the CSR index built per batch
// and timed with it), CPU and CUDA when present; the same step in PyTorch (dense
// torch.nn.functional.linear and torch.sparse.mm on a CSR batch) is the peer, run in the same
// process tree. Step = forward, loss sum(y * w), backward to dW and db; median of several steps.
// Usage: bench_sparse_input [DATA.h5ad]   (default ../shared/data/perturbation/kang_scgen_valid_lognorm.h5ad)
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/rng.h"
#include "bench/device_sync.h"
#include "nn/layers.h"
#include "omics/anndata.h"

using namespace cg;

namespace {

constexpr int64_t kOut = 800;
// The peer gets as many threads as cellgrad (OMP_NUM_THREADS).
const int kThreads = omp_get_max_threads();

double median_ms(Device dev, const std::function<void()>& step, int reps) {
  using clock = std::chrono::steady_clock;
  step();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    bench::sync(dev);
    const auto t0 = clock::now();
    step();
    bench::sync(dev);
    t.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// The rows of one batch as a CSR matrix on `dev` (what a loader of CSR files hands over).
CsrMatrix csr_batch(const omics::CsrMatrix& X, const std::vector<int64_t>& rows, Device dev) {
  std::vector<int32_t> ptr{0}, cols;
  std::vector<float> vals;
  for (int64_t r : rows) {
    for (int64_t e = X.indptr[static_cast<size_t>(r)]; e < X.indptr[static_cast<size_t>(r) + 1]; ++e) {
      cols.push_back(static_cast<int32_t>(X.indices[static_cast<size_t>(e)]));
      vals.push_back(X.data[static_cast<size_t>(e)]);
    }
    ptr.push_back(static_cast<int32_t>(cols.size()));
  }
  return CsrMatrix::from_csr(ptr, cols, vals, X.cols, dev);
}

Tensor dense_batch(const omics::CsrMatrix& X, const std::vector<int64_t>& rows, Device dev) {
  std::vector<float> d(rows.size() * static_cast<size_t>(X.cols), 0.f);
  for (size_t i = 0; i < rows.size(); ++i)
    for (int64_t e = X.indptr[static_cast<size_t>(rows[i])]; e < X.indptr[static_cast<size_t>(rows[i]) + 1]; ++e)
      d[i * static_cast<size_t>(X.cols) + static_cast<size_t>(X.indices[static_cast<size_t>(e)])] =
          X.data[static_cast<size_t>(e)];
  return Tensor::from_vector(d, {static_cast<int64_t>(rows.size()), X.cols}, dev);
}

// batch size -> {dense_ms, sparse_ms} from the PyTorch peer, or an explanation.
std::map<int64_t, std::pair<double, double>> run_peer(const std::string& data,
                                                      const std::vector<std::vector<int64_t>>& batches,
                                                      std::string& note) {
  std::map<int64_t, std::pair<double, double>> out;
  const std::string script = "bench/peers/sparse_linear_torch.py";
  if (!std::ifstream(script)) {
    note = "peer script not found (run from the repository root)";
    return out;
  }
  char path[] = "/tmp/cellgrad_sparse_rows_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) {
    note = "cannot create a temporary file for the peer";
    return out;
  }
  close(fd);
  {
    std::ofstream f(path);
    for (const auto& b : batches) {
      for (size_t k = 0; k < b.size(); ++k) f << (k ? " " : "") << b[k];
      f << "\n";
    }
  }
  const char* py = std::getenv("CELLGRAD_PEER_PYTHON");
  std::ostringstream cmd;
  cmd << "OMP_NUM_THREADS=" << kThreads << " " << (py ? py : "/usr/bin/python3") << " " << script << " --data " << data
      << " --rows " << path << " --out-features " << kOut << " --threads " << kThreads << " 2>&1";
  FILE* p = popen(cmd.str().c_str(), "r");
  std::string text;
  char buf[512];
  while (p && fgets(buf, sizeof(buf), p)) text += buf;
  if (p) pclose(p);
  std::remove(path);
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("SPARSE_TORCH", 0) != 0) continue;
    int64_t batch = 0;
    double dense = 0, sparse = 0;
    if (std::sscanf(line.c_str(), "SPARSE_TORCH batch=%ld dense_ms=%lf sparse_ms=%lf", &batch, &dense, &sparse) == 3)
      out[batch] = {dense, sparse};
  }
  if (out.empty()) note = "peer failed: " + text.substr(0, 300);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string data = argc > 1 ? argv[1] : "../shared/data/perturbation/kang_scgen_valid_lognorm.h5ad";
  try {
    omics::ReadOptions opt;
    opt.load_layers = opt.load_obsm = opt.load_uns = false;
    const omics::AnnData a = omics::read_h5ad(data, opt);
    if (!a.X.sparse) throw std::runtime_error(data + ": X is dense; this bench needs a CSR X");
    const omics::CsrMatrix& X = a.X.csr;
    std::printf("sparse first layer: %ld cells x %ld genes, %.1f%% nonzero; Linear %ld -> %ld, %d CPU threads (both engines)\n",
                X.rows, X.cols, 100.0 * X.nnz() / (double(X.rows) * X.cols), X.cols, kOut, kThreads);
    std::printf("step = forward + sum(y*w) + backward (dW, db); median ms; ratio = dense / sparse (> 1: sparse faster)\n\n");
    const std::vector<int64_t> sizes{32, 512, 4096};
    std::vector<std::vector<int64_t>> batches;
    Generator pick(11);
    for (int64_t n : sizes) {
      const std::vector<double> u = pick.uniform({n}).to_vector<double>();
      std::vector<int64_t> rows;
      for (double v : u) rows.push_back(std::min<int64_t>(X.rows - 1, static_cast<int64_t>(v * X.rows)));
      batches.push_back(rows);
    }
    std::string note;
    const auto peer = run_peer(data, batches, note);
    if (!note.empty()) std::printf("peer: %s\n", note.c_str());
    std::printf("%-6s %-5s %12s %12s %8s %14s %14s %10s\n", "batch", "dev", "dense ms", "sparse ms", "ratio",
                "torch dense", "torch sparse", "vs torch");
    std::vector<Device> devices{Device::CPU};
    if (cuda_available()) devices.push_back(Device::CUDA);
    for (Device dev : devices) {
      for (size_t i = 0; i < sizes.size(); ++i) {
        const auto& rows = batches[i];
        // The dense step uses PyTorch's [out, in] weight, the sparse one the [in, out] layout made for it
        // (nn::WeightLayout); both start from the same values.
        Generator gen(5), same(5);
        nn::Linear layer(X.cols, kOut, gen);
        nn::Linear sparse_layer(X.cols, kOut, same, nn::Init::TorchDefault, true, nn::WeightLayout::InOut);
        layer.to(dev);
        sparse_layer.to(dev);
        const Tensor w = Generator(6).normal({sizes[i], kOut}, dev);
        const Tensor dense = dense_batch(X, rows, dev);
        auto step = [&](const std::function<Tensor()>& forward) {
          for (nn::Linear* l : {&layer, &sparse_layer}) {
            l->weight.zero_grad();
            l->bias.zero_grad();
          }
          sum(mul(forward(), w)).backward();
        };
        const int reps = sizes[i] >= 4096 ? 5 : 15;
        const double dense_ms = median_ms(dev, [&] { step([&] { return layer.forward(dense); }); }, reps);
        const double sparse_ms =
            median_ms(dev, [&] { step([&] { return sparse_layer.forward(csr_batch(X, rows, dev)); }); }, reps);
        const auto it = peer.find(sizes[i]);
        char torch_cols[64] = "-";
        if (dev == Device::CPU && it != peer.end())
          std::snprintf(torch_cols, sizeof(torch_cols), "%14.3f %14.3f %9.2fx", it->second.first, it->second.second,
                        std::min(it->second.first, it->second.second) / sparse_ms);
        std::printf("%-6ld %-5s %12.3f %12.3f %7.2fx %s\n", sizes[i], device_name(dev), dense_ms, sparse_ms,
                    dense_ms / sparse_ms, torch_cols);
      }
    }
    std::printf("\nvs torch: PyTorch's faster of its dense and sparse steps / cellgrad's sparse step (> 1: cellgrad faster)\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_sparse_input: %s\n", e.what());
    return 1;
  }
  return 0;
}
