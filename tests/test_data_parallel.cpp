// Data parallel across processes (nn/data_parallel.h, FitOptions::group): the batch shares, and
// a small regression trained by nn::fit in one process and by two processes under mpirun, which
// must follow the same loss curve (no batch norm, no dropout: the bar, relative
// difference under 1e-5 per epoch) and end with the same parameters on both ranks.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/optim.h"
#include "nn/data_parallel.h"
#include "nn/fit.h"
#include "nn/layers.h"
#include "tests/mpirun_check.h"
#include "tests/op_check.h"
#include "tests/test_omics_io_util.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/nccl.h"
#endif

using namespace cg;
using namespace cg::nn;

namespace {

// y = tanh(x A) over 384 rows of 16 features -> 4 outputs, fitted by a two-layer MLP.
struct Problem {
  static constexpr int64_t kRows = 384, kIn = 16, kOut = 4;
  Tensor x, y;
  Problem() {
    Generator g(21, 0);
    x = g.normal({kRows, kIn});
    const Tensor a = g.normal({kIn, kOut});
    y = tanh(matmul(x, a));
  }
  Tensor rows_of(const Tensor& t, const Rows& rows) const {
    return gather_rows(t, Tensor::from_indices(std::vector<int32_t>(rows.begin(), rows.end())));
  }
};

// Losses per epoch, then the sum of every parameter, one per line.
std::vector<double> train_and_report(ProcessGroup* group) {
  Problem p;
  Generator init(5, 0);
  auto model = std::make_shared<Sequential>();
  model->append(std::make_shared<Linear>(Problem::kIn, 32, init));
  model->append(std::make_shared<ActivationLayer>(Activation::Tanh));
  model->append(std::make_shared<Linear>(32, Problem::kOut, init));
  AdamOptions ao;
  ao.lr = 0.01;
  Adam adam(model->parameters(), ao);
  Phase phase;
  phase.name = "main";
  phase.optimizer = &adam;
  phase.forward = [&](const Rows& rows) {
    StepTerms t;
    const Tensor loss = mean(square(sub(model->forward(p.rows_of(p.x, rows)), p.rows_of(p.y, rows))));
    t.weighted = {{"mse", loss}};
    t.logged = {{"mse", loss}};
    return t;
  };
  FitHooks hooks;
  hooks.validate = [&](int, EpochRow& row) {
    NoGradGuard ng;
    row["val_loss"] = mean(square(sub(model->forward(p.x), p.y))).item();
  };
  FitOptions o;
  o.epochs = 6;
  o.batch_size = 64;
  o.seed = 3;
  o.label = "data-parallel probe";
  o.group = group;
  Rows train(Problem::kRows);
  std::iota(train.begin(), train.end(), int64_t{0});
  FitState state;
  state.model = model.get();
  const FitResult r = fit(state, [&](int) { return std::vector<Phase*>{&phase}; }, train, hooks, o);
  std::vector<double> out;
  for (const EpochRow& row : r.history) {
    out.push_back(row.at("train_mse"));
    out.push_back(row.at("val_loss"));
  }
  for (const auto& [name, t] : model->named_parameters()) {
    const auto v = t.to_vector<double>();
    out.push_back(std::accumulate(v.begin(), v.end(), 0.0));
  }
  return out;
}

std::vector<double> read_numbers(const std::string& path) {
  std::ifstream f(path);
  std::vector<double> v;
  double x;
  while (f >> x) v.push_back(x);
  return v;
}

std::string self_exe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

}  // namespace

TEST_CASE("local_share and smallest_share: contiguous shares covering the batch") {
  const Rows batch{10, 11, 12, 13, 14, 15, 16};
  CHECK(local_share(batch, 0, 2) == Rows{10, 11, 12});
  CHECK(local_share(batch, 1, 2) == Rows{13, 14, 15, 16});
  CHECK(local_share(batch, 2, 3) == Rows{14, 15, 16});
  CHECK(smallest_share(7, 2) == 3);
  CHECK(smallest_share(7, 3) == 2);
  CHECK(smallest_share(2, 3) == 0);
}

// Run by the mpirun test below (and directly for the one-process reference), not on its own.
TEST_CASE("data-parallel probe" * doctest::skip()) {
  const char* out = std::getenv("CELLGRAD_DP_PROBE_OUT");
  REQUIRE_MESSAGE(out != nullptr, "set CELLGRAD_DP_PROBE_OUT (the mpirun test does)");
  ProcessGroup* group = launched_process_group();
  const std::vector<double> v = train_and_report(group);
  std::ofstream f(std::string(out) + "." + std::to_string(group ? group->rank() : 0));
  f.precision(17);
  for (double x : v) f << x << "\n";
}

TEST_CASE("data parallel: mpirun -np 2 follows the one-process loss curve; both ranks end equal") {
  if (!cg::test::mpirun_ready("the mpirun check")) return;
  cg::test::TempDir tmp;
  const std::string exe = self_exe(), probe = "-tc='data-parallel probe' --no-skip";
  const std::string env = cg::test::kMpiEnv;
  REQUIRE(std::system((env + "CELLGRAD_DP_PROBE_OUT=" + tmp.file("one") + " " + exe + " " + probe +
                       " > " + tmp.file("one.log") + " 2>&1").c_str()) == 0);
  const std::string mpirun = cg::test::mpirun_2("-x CELLGRAD_DP_PROBE_OUT=" + tmp.file("two")) + exe + " " + probe +
                             " > " + tmp.file("two.log") + " 2>&1";
  const int status = std::system(mpirun.c_str());
  std::ifstream log(tmp.file("two.log"));
  std::stringstream text;
  text << log.rdbuf();
  INFO("mpirun output:\n" << text.str());
  REQUIRE(status == 0);
  const auto one = read_numbers(tmp.file("one.0")), rank0 = read_numbers(tmp.file("two.0")),
             rank1 = read_numbers(tmp.file("two.1"));
  REQUIRE(one.size() == 6 * 2 + 4);
  REQUIRE(rank0.size() == one.size());
  CHECK(rank0 == rank1);  // the same parameters and history on every rank, bit for bit
  for (size_t i = 0; i < one.size(); ++i) {
    INFO("value " << i << ": one process " << one[i] << ", two " << rank0[i]);
    CHECK(std::abs(one[i] - rank0[i]) <= 1e-5 * std::max(1.0, std::abs(one[i])));
  }
}

#ifdef CELLGRAD_CUDA
TEST_CASE("NCCL: the library loads without a GPU (the toolkit's lib folder is searched)") {
  if (std::ifstream("/usr/local/cuda/lib/libnccl.so.2").good() || std::ifstream("/usr/local/cuda/lib64/libnccl.so.2").good())
    CHECK(kernels::cuda::nccl_unavailable_reason() == "");
  else
    MESSAGE("skipped: no libnccl.so.2 in /usr/local/cuda/lib or lib64");
}
#endif

// The NCCL path with one rank on one GPU (what the GPU check can run without mpirun): the
// library loads, a communicator forms, and an all-reduce and a broadcast leave the data as it was.
TEST_CASE("NCCL: a communicator of one process all-reduces and broadcasts CUDA memory") {
  if (!cg::test::cuda_ready("NCCL with one rank")) return;
#ifdef CELLGRAD_CUDA
  const std::string why = kernels::cuda::nccl_unavailable_reason();
  REQUIRE_MESSAGE(why.empty(), why);
  kernels::cuda::NcclComm comm(kernels::cuda::nccl_unique_id(), 0, 1);
  const std::vector<float> values{1.5f, -2.f, 3.25f, 0.f, 7.f};
  Tensor t = Tensor::from_vector(values, {5}).to(Device::CUDA);
  comm.all_reduce_sum(t.data<float>(), t.numel());
  CHECK(t.to_vector<float>() == values);
  comm.broadcast(t.data<float>(), t.numel());
  CHECK(t.to_vector<float>() == values);
#endif
}
