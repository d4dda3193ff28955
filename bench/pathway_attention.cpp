// Speed and memory of the masked gene-to-pathway attention (not a test): the sparse layer
// (nn::SparsePathwayAttention, hard and soft mask) against the dense reference
// (nn::PathwayAttention) and a dense PyTorch version of the same layer
// (bench/peers/pathway_attention_torch.py, started from here), forward + backward, on Kang's
// ~7,000 genes with GO biological-process sets selected as in NetActivity (10..30 genes listed,
// >= 5 present, Jaccard >= 0.5 clusters reduced to their largest set), and on a random 2% mask.
//
// A step: zero_grad, forward, loss = mean(activities^2), backward (no optimizer); time is the
// mean over --reps steps after one warm-up step. Memory: cellgrad's peak bytes of live tensor
// storage during the step above what was live before it (autograd/allocator.h); the peer's is
// its peak resident-set growth. A dense configuration whose estimated memory exceeds
// --dense-budget-gb is reported as skipped with the estimate (7 tensors of N x heads x P x G
// float32: logits, masked logits, weights, masked weights and their gradients).
//
// Usage: bench_pathway_attention [--data FILE.h5ad] [--gmt FILE.gmt] [--batches 32,256]
//          [--dim 128] [--heads 8] [--reps 2] [--threads 2] [--dense-budget-gb 6] [--no-peer]
//          [--candidates 5]
#include <omp.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/allocator.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/rng.h"
#include "bench/device_sync.h"
#include "nn/pathway_attention.h"
#include "nn/sparse_pathway_attention.h"
#include "omics/anndata.h"
#include "omics/genesets.h"

using namespace cg;
using Members = std::vector<std::vector<int64_t>>;
using clock_type = std::chrono::steady_clock;

namespace {

struct Options {
  std::string data = "../shared/data/perturbation/kang_scgen_valid_lognorm.h5ad";
  std::string gmt = "../shared/data/pathways/GO_BP_direct_orgHsEgDb3.16_symbols.gmt";
  std::vector<int> batches{32, 256};
  int64_t dim = 128, heads = 8, candidates = 5;
  int reps = 2, threads = 2;
  double dense_budget_gb = 6;
  bool peer = true;
};

struct Measure {
  double step_ms = 0, peak_mb = 0;
  std::string note;  // why it did not run
};

template <class Layer> Tensor activities_of(Layer& layer, const Tensor& x) { return layer.forward(x).activities; }

template <class Layer> Measure measure(Layer& layer, const Tensor& x, int reps) {
  auto step = [&] {
    layer.zero_grad();
    const Tensor loss = mean(square(activities_of(layer, x)));
    loss.backward();
    (void)loss.item();
  };
  const size_t before = cpu_allocator_stats().bytes_in_use;
  reset_cpu_peak_bytes();
  step();
  Measure m;
  m.peak_mb = static_cast<double>(cpu_allocator_stats().peak_bytes_in_use - before) / 1e6;
  const auto t0 = clock_type::now();
  for (int r = 0; r < reps; ++r) step();
  m.step_ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count() / reps;
  return m;
}

std::string peer_script() {
  const char* rel = "bench/peers/pathway_attention_torch.py";
  return access(rel, R_OK) == 0 ? rel : "";
}

Measure run_peer(const Options& o, const Members& members, int64_t genes, int batch) {
  Measure m;
  const std::string script = peer_script();
  if (script.empty()) {
    m.note = "peer script not found (run from the repository root)";
    return m;
  }
  char path[] = "/tmp/cellgrad_pwatt_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) throw std::runtime_error("cannot create a temporary file for the peer");
  close(fd);
  {
    std::ofstream f(path);
    for (const auto& r : members) {
      for (size_t k = 0; k < r.size(); ++k) f << (k ? " " : "") << r[k];
      f << "\n";
    }
  }
  const char* py = std::getenv("CELLGRAD_PEER_PYTHON");
  std::ostringstream cmd;
  cmd << "OMP_NUM_THREADS=" << o.threads << " " << (py ? py : "/usr/bin/python3") << " " << script << " --members "
      << path << " --genes " << genes << " --batch " << batch << " --dim " << o.dim << " --heads " << o.heads
      << " --reps " << o.reps << " --threads " << o.threads << " 2>&1";
  FILE* p = popen(cmd.str().c_str(), "r");
  std::string out;
  char buf[512];
  while (p && fgets(buf, sizeof(buf), p)) out += buf;
  if (p) pclose(p);
  std::remove(path);
  const size_t at = out.find("PWATT_TORCH");
  if (at == std::string::npos) {
    m.note = "peer failed: " + out.substr(0, 200);
    return m;
  }
  std::istringstream line(out.substr(at));
  std::string tok;
  while (line >> tok) {
    if (tok.rfind("step_ms=", 0) == 0) m.step_ms = std::stod(tok.substr(8));
    if (tok.rfind("peak_mb=", 0) == 0) m.peak_mb = std::stod(tok.substr(8));
    if (tok.find('\n') != std::string::npos) break;
  }
  return m;
}

void print_row(const char* pattern, int64_t P, double density, int batch, const char* impl, const Measure& m) {
  if (!m.note.empty())
    std::printf("%-12s %5lld %8.3f%% %6d  %-22s %s\n", pattern, static_cast<long long>(P), 100 * density, batch, impl,
                m.note.c_str());
  else
    std::printf("%-12s %5lld %8.3f%% %6d  %-22s %10.1f ms %10.1f MB\n", pattern, static_cast<long long>(P),
                100 * density, batch, impl, m.step_ms, m.peak_mb);
  std::fflush(stdout);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--data") o.data = value();
    else if (a == "--gmt") o.gmt = value();
    else if (a == "--batches") {
      o.batches.clear();
      std::stringstream ss(value());
      std::string t;
      while (std::getline(ss, t, ',')) o.batches.push_back(std::stoi(t));
    } else if (a == "--dim") o.dim = std::stoll(value());
    else if (a == "--heads") o.heads = std::stoll(value());
    else if (a == "--reps") o.reps = std::stoi(value());
    else if (a == "--threads") o.threads = std::stoi(value());
    else if (a == "--dense-budget-gb") o.dense_budget_gb = std::stod(value());
    else if (a == "--candidates") o.candidates = std::stoll(value());
    else if (a == "--no-peer") o.peer = false;
    else if (a == "--help") {
      std::printf("bench_pathway_attention [--data FILE.h5ad] [--gmt FILE.gmt] [--batches 32,256] [--dim 128]\n"
                  "  [--heads 8] [--reps 2] [--threads 2] [--dense-budget-gb 6] [--candidates 5] [--no-peer]\n");
      std::exit(0);
    } else throw std::runtime_error("unknown option " + a);
  }
  if (o.reps < 1 || o.threads < 1 || o.batches.empty() || o.dim % o.heads != 0)
    throw std::runtime_error("--reps and --threads must be >= 1, --batches non-empty, --heads must divide --dim");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    omp_set_num_threads(o.threads);
    const auto ad = omics::read_h5ad(o.data);
    const omics::DenseMatrix X = ad.dense_X();
    const std::vector<std::string>& genes = ad.var.index;
    const int64_t G = X.cols();
    omics::MaskOptions mo;
    mo.min_set_size = 10;
    mo.max_set_size = 30;
    mo.min_genes_present = 5;
    const auto go = omics::drop_redundant(omics::build_mask(genes, omics::read_gmt(o.gmt), mo, o.gmt), 0.5);
    Members go_sets(go.members.begin(), go.members.end());
    Members go_64(go_sets.begin(), go_sets.begin() + std::min<size_t>(64, go_sets.size()));
    Members random_2pct(500);
    Generator pick(11);
    for (auto& r : random_2pct) {
      std::vector<bool> used(static_cast<size_t>(G), false);
      while (static_cast<int64_t>(r.size()) < G / 50) {
        const int64_t g = pick.next_below(static_cast<uint32_t>(G));
        if (!used[static_cast<size_t>(g)]) used[static_cast<size_t>(g)] = true, r.push_back(g);
      }
    }
    std::printf("masked gene-to-pathway attention, forward + backward: %lld cells x %lld genes (%s); dim %lld, "
                "%lld heads; %d OpenMP thread(s); mean of %d step(s) after 1 warm-up\n",
                static_cast<long long>(X.rows()), static_cast<long long>(G), o.data.c_str(),
                static_cast<long long>(o.dim), static_cast<long long>(o.heads), omp_get_max_threads(), o.reps);
    std::printf("GO: %zu sets of 10..30 genes with >= 5 present after Jaccard 0.5 reduction (%s)\n", go_sets.size(),
                o.gmt.c_str());
    std::printf("memory: cellgrad = peak live tensor bytes during a step; torch = peak RSS growth\n\n");
    std::printf("%-12s %5s %9s %6s  %-22s %13s %13s\n", "pattern", "P", "density", "batch", "layer", "step",
                "peak memory");

    struct Pattern {
      const char* name;
      const Members* members;
    };
    const std::vector<Pattern> patterns{{"GO-first-64", &go_64}, {"GO-all", &go_sets}, {"random-2%", &random_2pct}};
    for (const Pattern& pt : patterns) {
      const Members& m = *pt.members;
      const int64_t P = static_cast<int64_t>(m.size());
      int64_t nnz = 0;
      for (const auto& r : m) nnz += static_cast<int64_t>(r.size());
      const double density = static_cast<double>(nnz) / static_cast<double>(P * G);
      nn::PathwayAttentionConfig cfg;
      cfg.genes = G;
      cfg.pathways = P;
      cfg.dim = o.dim;
      cfg.heads = o.heads;
      Members candidates;
      {
        // Candidates from the first 1,000 cells (the bench's stand-in for training cells).
        const int64_t C = std::min<int64_t>(1000, X.rows());
        Tensor expr = Tensor::empty({C, G});
        for (int64_t i = 0; i < C; ++i)
          std::copy(X.row(i).data(), X.row(i).data() + G, expr.data<float>() + i * G);
        candidates = nn::coexpression_candidates(expr, m, o.candidates);
      }
      for (int batch : o.batches) {
        const int64_t N = std::min<int64_t>(batch, X.rows());
        Tensor x = Tensor::empty({N, G});
        for (int64_t i = 0; i < N; ++i) std::copy(X.row(i).data(), X.row(i).data() + G, x.data<float>() + i * G);
        {
          Generator gen(1);
          cfg.mask = nn::PathwayMask::Hard;
          nn::SparsePathwayAttention hard(cfg, m, gen);
          print_row(pt.name, P, density, batch, "sparse hard", measure(hard, x, o.reps));
        }
        {
          Generator gen(1);
          cfg.mask = nn::PathwayMask::Soft;
          nn::SparsePathwayAttention soft(cfg, m, gen, candidates);
          char label[64];
          std::snprintf(label, sizeof(label), "sparse soft (+%lld cand)", static_cast<long long>(o.candidates));
          print_row(pt.name, P, density, batch, label, measure(soft, x, o.reps));
        }
        const double dense_gb = 7.0 * 4.0 * static_cast<double>(N) * o.heads * P * G / 1e9;
        Measure skipped;
        char note[128];
        std::snprintf(note, sizeof(note), "skipped: needs ~%.1f GB (budget %.1f GB)", dense_gb, o.dense_budget_gb);
        skipped.note = note;
        if (dense_gb > o.dense_budget_gb) {
          print_row(pt.name, P, density, batch, "dense hard (cellgrad)", skipped);
          if (o.peer) print_row(pt.name, P, density, batch, "dense hard (torch)", skipped);
          continue;
        }
        {
          Generator gen(1);
          cfg.mask = nn::PathwayMask::Hard;
          std::vector<float> mask(static_cast<size_t>(P * G), 0.f);
          for (int64_t p = 0; p < P; ++p)
            for (int64_t g : m[static_cast<size_t>(p)]) mask[static_cast<size_t>(p * G + g)] = 1.f;
          nn::PathwayAttention dense(cfg, Tensor::from_vector(mask, {P, G}), gen);
          print_row(pt.name, P, density, batch, "dense hard (cellgrad)", measure(dense, x, o.reps));
        }
        if (o.peer) print_row(pt.name, P, density, batch, "dense hard (torch)", run_peer(o, m, G, batch));
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_pathway_attention: %s\n", e.what());
    return 1;
  }
}
