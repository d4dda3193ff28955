// End-to-end speed of scGen training (not a test): cellgrad's ScGenVAE against the same model in
// PyTorch (bench/peers/scgen_torch.py, started from here), on the Kang PBMC data, at batch 32 and
// 512, on the CPU with 2 threads and, when a GPU is present, on CUDA.
//
// A step is what apps/predict_perturbation's trainer does: gather the batch rows, zero_grad,
// forward, backward, Adam step, read the loss back. An epoch is every batch of a shuffled pass
// (a last batch of fewer than 2 cells is dropped) or the first --max-steps of them; the time
// per epoch is the mean over --epochs timed epochs after --warmup untimed ones. Both sides run
// the same number of steps. speedup = PyTorch time / cellgrad time (above 1: cellgrad faster).
//
// Usage: bench_scgen [--data FILE.h5ad] [--batches 32,512] [--epochs 2] [--warmup 1]
//                    [--max-steps N] [--device cpu|cuda|all] [--threads 2] [--no-peer]
//                    [--phases]   (also time forward / backward / optimizer per step)
// Environment: CELLGRAD_PEER_PYTHON (default /usr/bin/python3, Debian's python3-torch).
#include <omp.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/common/perturbation_models.h"
#include "apps/common/row_feeder.h"
#include "autograd/engine.h"
#include "autograd/optim.h"
#include "autograd/rng.h"
#include "bench/device_sync.h"
#include "omics/anndata.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/runtime.h"
#endif

using namespace cg;
using clock_type = std::chrono::steady_clock;

namespace {

struct Options {
  std::string data = "../shared/data/perturbation/kang_scgen_valid_lognorm.h5ad";
  std::vector<int> batches{32, 512};
  int epochs = 2, warmup = 1, max_steps = 0, threads = 2;
  std::string device = "all";
  bool peer = true, phases = false;
  // Where minibatches come from on CUDA: "device" keeps the whole matrix on the GPU (uploaded once)
  // and gathers each batch there; "host" gathers on the host and uploads every batch, as a
  // PyTorch DataLoader over host tensors does. The CPU always reads host rows.
  std::string feed = "device";
};

struct Result {
  int steps = 0;
  double epoch_ms = 0, step_ms = 0, loss = 0;
  double forward_ms = 0, backward_ms = 0, optim_ms = 0;  // per step, with --phases
};

using bench::sync;

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

Result train_cellgrad(const omics::DenseMatrix& X, int batch, Device dev, const Options& o) {
  perturb::ScGenVAE model(X.cols(), {800, 800}, 100, 0.2, 5e-5, 0);
  model.to(dev);
  model.train();
  AdamOptions ao;
  ao.lr = 1e-3;
  Adam adam(model.main_parameters(), ao);
  Generator shuffle(0, 3);
  const Tensor no_condition;
  const apps::RowFeeder feeder(X, dev, o.feed == "device");  // the apps' trainers feed batches the same way
  std::vector<int64_t> order(static_cast<size_t>(X.rows()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  std::vector<size_t> starts;
  for (size_t s = 0; s + 2 <= order.size(); s += batch) starts.push_back(s);
  if (o.max_steps > 0 && starts.size() > static_cast<size_t>(o.max_steps)) starts.resize(o.max_steps);

  Result r;
  r.steps = static_cast<int>(starts.size());
  double total_ms = 0, fwd = 0, bwd = 0, opt = 0;
  for (int epoch = 0; epoch < o.warmup + o.epochs; ++epoch) {
    for (size_t i = order.size() - 1; i > 0; --i)
      std::swap(order[i], order[shuffle.next_below(static_cast<uint32_t>(i + 1))]);
    const bool timed = epoch >= o.warmup;
    double loss_sum = 0;
    sync(dev);
    const auto t0 = clock_type::now();
    for (size_t s : starts) {
      const size_t end = std::min(order.size(), s + batch);
      const Tensor x = feeder.rows(std::vector<int64_t>(order.begin() + s, order.begin() + end));
      if (o.phases) {  // synchronised phase timers: a little slower than the plain step
        sync(dev);
        auto t = clock_type::now();
        adam.zero_grad();
        sync(dev);
        if (timed) opt += ms_since(t);
        t = clock_type::now();
        const Tensor loss = model.losses(x, no_condition).front().second;
        sync(dev);
        if (timed) fwd += ms_since(t);
        t = clock_type::now();
        loss.backward();
        sync(dev);
        if (timed) bwd += ms_since(t);
        t = clock_type::now();
        adam.step();
        sync(dev);
        if (timed) opt += ms_since(t);
        loss_sum += loss.item();
      } else {
        adam.zero_grad();
        const Tensor loss = model.losses(x, no_condition).front().second;
        loss.backward();
        adam.step();
        loss_sum += loss.item();
      }
    }
    sync(dev);
    if (timed) {
      total_ms += ms_since(t0);
      r.loss = loss_sum / static_cast<double>(starts.size());
    }
  }
  r.epoch_ms = total_ms / o.epochs;
  r.step_ms = r.epoch_ms / r.steps;
  const double denom = static_cast<double>(o.epochs) * r.steps;
  r.forward_ms = fwd / denom;
  r.backward_ms = bwd / denom;
  r.optim_ms = opt / denom;
  return r;
}

std::string find_peer_script(const char* argv0) {
  const char* rel = "bench/peers/scgen_torch.py";
  if (access(rel, R_OK) == 0) return rel;
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    exe[n] = 0;
    std::string dir(exe);
    dir = dir.substr(0, dir.rfind('/'));  // BUILD/bin
    const std::string guess = dir + "/../../" + rel;
    if (access(guess.c_str(), R_OK) == 0) return guess;
  }
  return "";
}

// Runs the PyTorch peer for every batch size on one device. Returns batch -> result; fills
// `info` with its SCGEN_TORCH_INFO line and `error` with why nothing came back.
std::map<int, Result> run_peer(const Options& o, const std::string& script, const std::string& device,
                               std::string& info, std::string& error) {
  std::map<int, Result> out;
  const char* py_env = std::getenv("CELLGRAD_PEER_PYTHON");
  const std::string python = py_env && *py_env ? py_env : "/usr/bin/python3";
  if (access(python.c_str(), X_OK) != 0) {
    error = python + " not found (set CELLGRAD_PEER_PYTHON)";
    return out;
  }
  std::ostringstream batches;
  for (size_t i = 0; i < o.batches.size(); ++i) batches << (i ? "," : "") << o.batches[i];
  std::ostringstream cmd;
  cmd << "OMP_NUM_THREADS=" << o.threads << " " << python << " " << script << " --data '" << o.data << "' --batches "
      << batches.str() << " --epochs " << o.epochs << " --warmup " << o.warmup << " --max-steps " << o.max_steps
      << " --device " << device << " --threads " << o.threads
      << (device == "cuda" && o.feed == "device" ? " --resident" : "") << " 2>&1";
  std::fflush(stdout);
  FILE* p = popen(cmd.str().c_str(), "r");
  if (!p) {
    error = "could not start " + python;
    return out;
  }
  std::string all;
  char line[4096];
  while (std::fgets(line, sizeof(line), p)) {
    const std::string s(line);
    all += s;
    if (s.rfind("SCGEN_TORCH_INFO ", 0) == 0) info = s.substr(17, s.size() - 18);
    if (s.rfind("SCGEN_TORCH_ERROR ", 0) == 0) error = s.substr(18, s.size() - 19);
    if (s.rfind("SCGEN_TORCH ", 0) != 0) continue;
    std::istringstream fields(s.substr(12));
    std::map<std::string, std::string> kv;
    std::string f;
    while (fields >> f) {
      const size_t eq = f.find('=');
      if (eq != std::string::npos) kv[f.substr(0, eq)] = f.substr(eq + 1);
    }
    Result r;
    r.steps = std::atoi(kv["steps_per_epoch"].c_str());
    r.epoch_ms = std::atof(kv["epoch_ms"].c_str());
    r.step_ms = std::atof(kv["step_ms"].c_str());
    r.loss = std::atof(kv["loss"].c_str());
    out[std::atoi(kv["batch"].c_str())] = r;
  }
  const int status = pclose(p);
  if (out.empty() && error.empty()) {
    error = "the peer printed no result (exit status " + std::to_string(status) + ")";
    if (!all.empty()) error += "; its last output: " + all.substr(all.size() > 600 ? all.size() - 600 : 0);
  }
  return out;
}

std::vector<int> parse_ints(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ','))
    if (!part.empty()) v.push_back(std::stoi(part));
  return v;
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
    else if (a == "--batches") o.batches = parse_ints(value());
    else if (a == "--epochs") o.epochs = std::stoi(value());
    else if (a == "--warmup") o.warmup = std::stoi(value());
    else if (a == "--max-steps") o.max_steps = std::stoi(value());
    else if (a == "--threads") o.threads = std::stoi(value());
    else if (a == "--device") o.device = value();
    else if (a == "--no-peer") o.peer = false;
    else if (a == "--phases") o.phases = true;
    else if (a == "--feed") o.feed = value();
    else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: bench_scgen [--data FILE.h5ad] [--batches 32,512] [--epochs 2] [--warmup 1] [--max-steps N]\n"
          "                   [--device cpu|cuda|all] [--threads 2] [--no-peer] [--phases] [--feed device|host]\n"
          "  --feed: on CUDA, batches gathered from the matrix kept on the GPU (device, the default) or\n"
          "          gathered on the host and uploaded each step (host); the peer is fed the same way\n");
      std::exit(0);
    } else {
      throw std::runtime_error("unknown argument '" + a + "' (see --help)");
    }
  }
  if (o.epochs < 1 || o.warmup < 0 || o.threads < 1 || o.batches.empty())
    throw std::runtime_error("--epochs and --threads must be >= 1, --warmup >= 0, --batches non-empty");
  for (int b : o.batches)
    if (b < 2) throw std::runtime_error("batch sizes must be >= 2 (batch norm)");
  if (o.feed != "device" && o.feed != "host")
    throw std::runtime_error("--feed must be device or host, found '" + o.feed + "'");
  if (o.device != "cpu" && o.device != "cuda" && o.device != "all")
    throw std::runtime_error("--device must be cpu, cuda or all, found '" + o.device + "'");
  return o;
}

double load_average() {
  double l[3] = {0, 0, 0};
  return getloadavg(l, 3) > 0 ? l[0] : -1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    omp_set_num_threads(o.threads);
    const auto a = omics::read_h5ad(o.data);
    const omics::DenseMatrix X = a.dense_X();
    std::printf(
        "scGen training speed: %lld cells x %lld genes (%s); VAE %lld-800-800-100, batch norm, leaky ReLU, "
        "dropout 0.2; Adam lr 1e-3\n",
        static_cast<long long>(X.rows()), static_cast<long long>(X.cols()), o.data.c_str(),
        static_cast<long long>(X.cols()));
    std::printf("%d timed epoch(s) after %d warm-up epoch(s)%s; CUDA batches fed from the %s; cellgrad on %d OpenMP "
                "thread(s); load average %.2f\n",
                o.epochs, o.warmup,
                o.max_steps > 0 ? (", " + std::to_string(o.max_steps) + " steps per epoch at most").c_str() : "",
                o.feed == "device" ? "matrix kept on the GPU" : "host (gathered and uploaded per step)",
                omp_get_max_threads(), load_average());

    std::vector<std::pair<std::string, Device>> devices;
    if (o.device != "cuda") devices.push_back({"cpu", Device::CPU});
    if (o.device != "cpu") {
      if (cuda_available()) devices.push_back({"cuda", Device::CUDA});
      else std::printf("cuda: no GPU (or a CPU-only build): CUDA rows skipped\n");
    }
    const std::string script = o.peer ? find_peer_script(argv[0]) : "";
    if (o.peer && script.empty())
      std::printf("PyTorch peer: bench/peers/scgen_torch.py not found; cellgrad numbers only\n");

    for (const auto& [dev_name, dev] : devices) {
      std::map<int, Result> mine;
      for (int b : o.batches) {
        mine[b] = train_cellgrad(X, b, dev, o);
        const Result& r = mine[b];
        std::printf("cellgrad %-4s batch %4d: %8.1f ms/epoch  %8.2f ms/step  (%d steps, mean loss %.2f, load %.2f)\n",
                    dev_name.c_str(), b, r.epoch_ms, r.step_ms, r.steps, r.loss, load_average());
        if (o.phases)
          std::printf("    per step: forward %.2f ms, backward %.2f ms, zero_grad + Adam step %.2f ms\n", r.forward_ms,
                      r.backward_ms, r.optim_ms);
        std::fflush(stdout);
      }
      std::map<int, Result> peer;
      std::string info, error;
      if (!script.empty()) {
        peer = run_peer(o, script, dev_name, info, error);
        if (!info.empty()) std::printf("PyTorch (%s): %s\n", dev_name.c_str(), info.c_str());
        if (peer.empty()) std::printf("PyTorch %s: NOT MEASURED: %s\n", dev_name.c_str(), error.c_str());
      }
      std::printf("%-5s %6s %14s %14s %14s %14s %9s\n", "dev", "batch", "cellgrad ms/ep", "torch ms/ep",
                  "cellgrad ms/st", "torch ms/st", "speedup");
      for (int b : o.batches) {
        const Result& m = mine[b];
        auto it = peer.find(b);
        if (it == peer.end()) {
          std::printf("%-5s %6d %14.1f %14s %14.2f %14s %9s\n", dev_name.c_str(), b, m.epoch_ms, "-", m.step_ms, "-",
                      "-");
          continue;
        }
        const Result& t = it->second;
        if (t.steps != m.steps) std::printf("warning: step counts differ (cellgrad %d, torch %d)\n", m.steps, t.steps);
        std::printf("%-5s %6d %14.1f %14.1f %14.2f %14.2f %8.2fx\n", dev_name.c_str(), b, m.epoch_ms, t.epoch_ms,
                    m.step_ms, t.step_ms, t.epoch_ms / m.epoch_ms);
      }
      std::printf("(speedup = PyTorch time / cellgrad time; load average now %.2f)\n", load_average());
      std::fflush(stdout);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_scgen: %s\n", e.what());
    return 1;
  }
}
