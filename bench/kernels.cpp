// Kernel microbenchmarks (not tests): GEMM at scGen shapes, elementwise, softmax, batch norm and
// the fused Adam step, on the CPU and, when a GPU is present, on CUDA. Each CUDA kernel is first
// checked against its CPU version on the same input (the relative error is printed), then timed.
// Times are the median of several repetitions after a warm-up, read with steady_clock after a
// device synchronize. Usage: bench_kernels [substring]  (runs only the cases whose name contains it)
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "autograd/optim.h"
#include "autograd/rng.h"
#include "autograd/tensor.h"
#include "bench/device_sync.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/norm.h"
#include "kernels/cpu/softmax.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/norm.h"
#include "kernels/cuda/runtime.h"
#include "kernels/cuda/softmax.h"
#endif

using namespace cg;
namespace kc = cg::kernels::cpu;

namespace {

std::string g_filter;
bool g_cuda = false;

using bench::sync;

// Median milliseconds of fn over repetitions after one warm-up call. The repetition count adapts
// to the cost (3 to 25 runs, about 2 s per case) so the big CPU GEMMs stay affordable.
double time_ms(Device dev, const std::function<void()>& fn) {
  using clock = std::chrono::steady_clock;
  auto once = [&] {
    sync(dev);
    const auto t0 = clock::now();
    fn();
    sync(dev);
    return std::chrono::duration<double, std::milli>(clock::now() - t0).count();
  };
  const double warm = once();
  const int reps = static_cast<int>(std::clamp(2000.0 / std::max(warm, 1e-3), 3.0, 25.0));
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) t.push_back(once());
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// max |a - b| / max(1, |a|, |b|)
[[maybe_unused]] double rel_err(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector<double>(), y = b.to_vector<double>();
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double d = std::abs(x[i] - y[i]) / std::max({1.0, std::abs(x[i]), std::abs(y[i])});
    m = std::max(m, std::isnan(d) ? INFINITY : d);
  }
  return m;
}

// Datasheet peaks of the GPUs we know (dense, no sparsity): HBM GB/s, FP32 and TF32 GFLOP/s. Leads,
// not ceilings: a large device-to-device copy reached about 4.3 TB/s on an H200 here.
struct Peak {
  double gbs = 0, fp32 = 0, tf32 = 0;
};
Peak g_peak;
Peak peak_of(const std::string& device) {
  if (device.find("H200") != std::string::npos) return {4800, 67000, 494700};
  if (device.find("H100") != std::string::npos) return {3350, 67000, 494700};
  if (device.find("A100") != std::string::npos) return {2039, 19500, 156000};
  return {};
}

// One row; CUDA rows on a known GPU also give the share of its peak bandwidth and arithmetic rate
// (TF32 rows against the TF32 rate): a GEMM should be near the rate, an elementwise kernel near
// the bandwidth.
void report(const std::string& name, const char* dev, double ms, double flops, double bytes, double err = -1) {
  const double gflops = flops / ms / 1e6, gbs = bytes / ms / 1e6;
  std::printf("%-44s %-9s %10.3f ms %9.1f GFLOP/s %8.1f GB/s", name.c_str(), dev, ms, gflops, gbs);
  const bool cuda_row = std::string(dev).rfind("cuda", 0) == 0;
  if (cuda_row && g_peak.gbs > 0) {
    const double rate = std::string(dev).find("tf32") != std::string::npos ? g_peak.tf32 : g_peak.fp32;
    std::printf("  peak: %5.1f%% HBM %5.1f%% %s", 100 * gbs / g_peak.gbs, 100 * gflops / rate,
                rate == g_peak.tf32 ? "TF32" : "FP32");
  }
  if (err >= 0) std::printf("   rel.err vs cpu %.1e", err);
  std::printf("\n");
  std::fflush(stdout);
}

// OpenMP barriers make multi-threaded CPU timings meaningless when other processes hold the
// cores (a descheduled thread stalls the whole team), so say so next to the numbers.
void warn_if_loaded() {
  std::ifstream f("/proc/loadavg");
  double load = 0;
  if (!(f >> load)) return;
  const unsigned cores = std::thread::hardware_concurrency();
  if (cores > 0 && load > 0.75 * cores)
    std::printf(
        "warning: load average %.1f on %u cores: other processes compete for the CPU, CPU timings "
        "(multi-threaded ones most) are pessimistic\n",
        load, cores);
}

bool selected(const std::string& name) { return g_filter.empty() || name.find(g_filter) != std::string::npos; }

Tensor randn(const Shape& s, uint64_t seed) { return Generator(seed).normal(s); }

// ---- GEMM ---------------------------------------------------------------------------------------

void bench_gemm(int64_t m, int64_t k, int64_t n) {
  const std::string name = "gemm [" + std::to_string(m) + "," + std::to_string(k) + "]x[" + std::to_string(k) + "," +
                           std::to_string(n) + "]";
  if (!selected(name)) return;
  const double flops = 2.0 * m * n * k, bytes = 4.0 * (m * k + k * n + m * n);
  Tensor a = randn({m, k}, 1), b = randn({k, n}, 2), c = Tensor::zeros({m, n});
  const double ms = time_ms(Device::CPU, [&] {
    kc::gemm<float>(false, false, m, n, k, 1.f, a.data<float>(), b.data<float>(), 0.f, c.data<float>());
  });
  report(name, "cpu", ms, flops, bytes);
#ifdef CELLGRAD_CUDA
  if (!g_cuda) return;
  Tensor da = a.to(Device::CUDA), db = b.to(Device::CUDA), dc = Tensor::zeros({m, n}, DType::F32, Device::CUDA);
  auto run = [&] {
    kernels::cuda::gemm(false, false, m, n, k, 1.f, da.data<float>(), db.data<float>(), 0.f, dc.data<float>());
  };
  kernels::cuda::set_tf32(false);
  run();
  const double err = rel_err(c, dc);
  report(name, "cuda fp32", time_ms(Device::CUDA, run), flops, bytes, err);
  kernels::cuda::set_tf32(true);
  run();
  const double err_tf32 = rel_err(c, dc);
  report(name, "cuda tf32", time_ms(Device::CUDA, run), flops, bytes, err_tf32);
  kernels::cuda::set_tf32(false);
#endif
}

// ---- elementwise, softmax, batch norm ------------------------------------------------------------

constexpr int64_t kRows = 4096, kCols = 800;

void bench_relu() {
  const std::string name = "relu [4096,800]";
  if (!selected(name)) return;
  const int64_t n = kRows * kCols;
  Tensor x = randn({kRows, kCols}, 3), y = Tensor::zeros({kRows, kCols});
  const kernels::UnaryParams p{};
  const double ms = time_ms(
      Device::CPU, [&] { kc::unary_forward<float>(kernels::UnaryOp::Relu, p, x.data<float>(), y.data<float>(), n); });
  report(name, "cpu", ms, n, 8.0 * n);
#ifdef CELLGRAD_CUDA
  if (!g_cuda) return;
  Tensor dx = x.to(Device::CUDA), dy = Tensor::zeros({kRows, kCols}, DType::F32, Device::CUDA);
  auto run = [&] { kernels::cuda::unary_forward(kernels::UnaryOp::Relu, p, dx.data<float>(), dy.data<float>(), n); };
  run();
  const double err = rel_err(y, dy);
  report(name, "cuda", time_ms(Device::CUDA, run), n, 8.0 * n, err);
#endif
}

void bench_add() {
  const std::string name = "add [4096,800]";
  if (!selected(name)) return;
  const int64_t n = kRows * kCols;
  using kernels::Bcast;
  using kernels::BinaryOp;
  Tensor a = randn({kRows, kCols}, 4), b = randn({kRows, kCols}, 5), y = Tensor::zeros({kRows, kCols});
  const double ms = time_ms(Device::CPU, [&] {
    kc::binary_forward<float>(BinaryOp::Add, a.data<float>(), Bcast::Full, b.data<float>(), Bcast::Full,
                              y.data<float>(), kRows, kCols);
  });
  report(name, "cpu", ms, n, 12.0 * n);
#ifdef CELLGRAD_CUDA
  if (!g_cuda) return;
  Tensor da = a.to(Device::CUDA), db = b.to(Device::CUDA), dy = Tensor::zeros({kRows, kCols}, DType::F32, Device::CUDA);
  auto run = [&] {
    kernels::cuda::binary_forward(BinaryOp::Add, da.data<float>(), Bcast::Full, db.data<float>(), Bcast::Full,
                                  dy.data<float>(), kRows, kCols);
  };
  run();
  const double err = rel_err(y, dy);
  report(name, "cuda", time_ms(Device::CUDA, run), n, 12.0 * n, err);
#endif
}

void bench_softmax() {
  const std::string name = "softmax_rows [4096,800]";
  if (!selected(name)) return;
  const int64_t n = kRows * kCols;
  // ~5 flops per element (max, subtract, exp, sum, scale); 8 bytes: one read, one write.
  const double flops = 5.0 * n, bytes = 8.0 * n;
  Tensor x = randn({kRows, kCols}, 6), y = Tensor::zeros({kRows, kCols});
  const double ms =
      time_ms(Device::CPU, [&] { kc::softmax_rows<float>(x.data<float>(), y.data<float>(), kRows, kCols, false); });
  report(name, "cpu", ms, flops, bytes);
#ifdef CELLGRAD_CUDA
  if (!g_cuda) return;
  Tensor dx = x.to(Device::CUDA), dy = Tensor::zeros({kRows, kCols}, DType::F32, Device::CUDA);
  auto run = [&] { kernels::cuda::softmax_rows(dx.data<float>(), dy.data<float>(), kRows, kCols, false); };
  run();
  const double err = rel_err(y, dy);
  report(name, "cuda", time_ms(Device::CUDA, run), flops, bytes, err);
#endif
}

// Training-mode forward: column statistics, inverse std, normalise with gamma and beta.
void bench_batch_norm() {
  const std::string name = "batch_norm train fwd [4096,800]";
  if (!selected(name)) return;
  const int64_t n = kRows * kCols;
  // ~8 flops per element (mean, deviation, square, accumulate, normalise, scale, shift); 8 bytes minimum traffic.
  const double flops = 8.0 * n, bytes = 8.0 * n;
  Tensor x = randn({kRows, kCols}, 7), y = Tensor::zeros({kRows, kCols});
  Tensor gamma = randn({kCols}, 8), beta = randn({kCols}, 9);
  Tensor mean = Tensor::zeros({kCols}), var = Tensor::zeros({kCols}), rstd = Tensor::zeros({kCols});
  const double ms = time_ms(Device::CPU, [&] {
    kc::batch_norm_stats<float>(x.data<float>(), mean.data<float>(), var.data<float>(), kRows, kCols);
    kc::batch_norm_inv_std<float>(var.data<float>(), rstd.data<float>(), kCols, 1e-5);
    kc::batch_norm_apply<float>(x.data<float>(), mean.data<float>(), rstd.data<float>(), gamma.data<float>(),
                                beta.data<float>(), y.data<float>(), kRows, kCols);
  });
  report(name, "cpu", ms, flops, bytes);
#ifdef CELLGRAD_CUDA
  if (!g_cuda) return;
  const Device D = Device::CUDA;
  Tensor dx = x.to(D), dy = Tensor::zeros({kRows, kCols}, DType::F32, D), dg = gamma.to(D), db = beta.to(D);
  Tensor dm = Tensor::zeros({kCols}, DType::F32, D), dv = Tensor::zeros({kCols}, DType::F32, D),
         dr = Tensor::zeros({kCols}, DType::F32, D);
  auto run = [&] {
    kernels::cuda::batch_norm_stats(dx.data<float>(), dm.data<float>(), dv.data<float>(), kRows, kCols);
    kernels::cuda::batch_norm_inv_std(dv.data<float>(), dr.data<float>(), kCols, 1e-5);
    kernels::cuda::batch_norm_apply(dx.data<float>(), dm.data<float>(), dr.data<float>(), dg.data<float>(),
                                    db.data<float>(), dy.data<float>(), kRows, kCols);
  };
  run();
  const double err = rel_err(y, dy);
  report(name, "cuda", time_ms(D, run), flops, bytes, err);
#endif
}

// ---- fused Adam over a flat buffer -----------------------------------------------------------------

void bench_adam() {
  const int64_t n = 12'600'000;
  const std::string name = "adam step, 12.6M params (1 segment)";
  if (!selected(name)) return;
  // Per element: read p, g, m, v and write p, m, v (28 bytes); ~14 flops.
  const double flops = 14.0 * n, bytes = 28.0 * n;
  auto make = [&](Device dev) {
    Tensor p = randn({n}, 10).to(dev).set_requires_grad(true);
    p.set_grad(randn({n}, 11).to(dev));
    return p;
  };
  AdamOptions o;
  o.weight_decay = 0.01;
  Tensor p = make(Device::CPU);
  Adam cpu_opt({p}, o);
  cpu_opt.step();  // the step compared with CUDA below
  Tensor after_one = p.clone();
  const double ms = time_ms(Device::CPU, [&] { cpu_opt.step(); });
  report(name, "cpu", ms, flops, bytes);
#ifdef CELLGRAD_CUDA
  if (!g_cuda) return;
  Tensor dp = make(Device::CUDA);
  Adam cuda_opt({dp}, o);
  cuda_opt.step();
  const double err = rel_err(after_one, dp);
  report(name, "cuda", time_ms(Device::CUDA, [&] { cuda_opt.step(); }), flops, bytes, err);
#else
  (void)after_one;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) g_filter = argv[1];
  g_cuda = cuda_available();
  std::printf("cellgrad kernel microbenchmarks: cpu with %d OpenMP threads", omp_get_max_threads());
#ifdef CELLGRAD_CUDA
  if (g_cuda) {
    g_peak = peak_of(kernels::cuda::device_name());
    std::printf("; cuda on %s", kernels::cuda::device_name().c_str());
    if (g_peak.gbs > 0)
      std::printf(" (datasheet peaks: %.0f GB/s HBM, %.0f TFLOP/s FP32, %.0f TFLOP/s TF32)", g_peak.gbs,
                  g_peak.fp32 / 1000, g_peak.tf32 / 1000);
  }
  else std::printf("; cuda: no device found, CPU only");
#else
  std::printf("; built without CUDA, CPU only");
#endif
  std::printf(
      "\nmedian of 3-25 runs after a warm-up; GFLOP/s and GB/s from nominal counts (GEMM: 2mnk flops,"
      " each operand read/written once)\n\n");
  warn_if_loaded();
  try {
    for (int64_t rows : {32, 512, 4096}) bench_gemm(rows, 6998, 800);
    for (int64_t rows : {32, 512, 4096}) bench_gemm(rows, 800, 800);
    bench_relu();
    bench_add();
    bench_softmax();
    bench_batch_norm();
    bench_adam();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_kernels: %s\n", e.what());
    return 1;
  }
  return 0;
}
