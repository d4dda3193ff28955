// The op profiler behind the apps' --profile: only the outermost op is timed (nested ops count
// under it), backward time goes to the op whose backward it is, nothing is recorded outside a
// profile, and fit() profiles exactly the epoch it is asked for.
#include <doctest/doctest.h>

#include <map>
#include <numeric>
#include <string>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/optim.h"
#include "autograd/profiler.h"
#include "autograd/rng.h"
#include "nn/fit.h"
#include "nn/layers.h"
#include "tests/app_runner.h"
#include "tests/multitask_fixtures.h"
#include "tests/predict_perturbation_fixtures.h"

using namespace cg;

namespace {

std::map<std::string, profiler::OpTime> by_op() {
  std::map<std::string, profiler::OpTime> m;
  for (const auto& t : profiler::results()) m[t.op] = t;
  return m;
}

}  // namespace

TEST_CASE("profiler: forward and backward calls per op; nested ops count under the outermost") {
  Generator g(3, 0);
  Tensor a = g.normal({8, 5}, Device::CPU), b = g.normal({5, 4}, Device::CPU);
  a.set_requires_grad(true);
  profiler::start();
  const Tensor y = mean(relu(matmul(a, b)));
  y.backward();
  {
    const profiler::Scope outer("outer", profiler::Pass::Forward);
    (void)matmul(a, b);  // inside "outer": not counted as a matmul of its own
  }
  profiler::stop();
  (void)matmul(a, b);  // after the profile: not counted
  auto m = by_op();
  REQUIRE(m.count("matmul") == 1);
  CHECK(m["matmul"].forward_calls == 1);
  CHECK(m["matmul"].backward_calls == 1);
  CHECK(m["relu"].forward_calls == 1);
  CHECK(m["relu"].backward_calls == 1);
  CHECK(m["mean"].forward_calls == 1);
  CHECK(m["mean"].backward_calls == 1);
  CHECK(m["outer"].forward_calls == 1);
  CHECK(m["outer"].backward_calls == 0);
  for (const auto& [op, t] : m) {
    CAPTURE(op);
    CHECK(t.forward_ms >= 0);
    CHECK(t.backward_ms >= 0);
  }
  const std::string table = profiler::table(profiler::results(), 10.0);
  CHECK(table.find("matmul") != std::string::npos);
  CHECK(table.find("of 10.00 ms wall") != std::string::npos);

  // A new profile starts from zero.
  profiler::start();
  profiler::stop();
  CHECK(profiler::results().empty());
}

TEST_CASE("fit: profile_epoch profiles that epoch's steps only, optimizer steps included") {
  Generator init(5, 0);
  nn::Linear model(3, 2, init);
  Adam adam(model.parameters());
  Generator data(9, 0);
  const Tensor x = data.normal({40, 3}, Device::CPU), y = data.normal({40, 2}, Device::CPU);
  nn::Phase phase;
  phase.name = "main";
  phase.optimizer = &adam;
  phase.forward = [&](const nn::Rows& rows) {
    std::vector<int32_t> idx(rows.begin(), rows.end());
    const Tensor i = Tensor::from_indices(idx);
    const Tensor loss = mean(square(sub(model.forward(gather_rows(x, i)), gather_rows(y, i))));
    nn::StepTerms t;
    t.weighted = {{"mse", loss}};
    t.logged = {{"mse", loss}};
    return t;
  };
  nn::FitHooks hooks;
  hooks.validate = [](int, nn::EpochRow& row) { row["val_loss"] = 1.0; };
  nn::FitOptions o;
  o.epochs = 3;
  o.patience = 3;
  o.batch_size = 10;  // 4 steps per epoch
  o.label = "profiled";
  o.profile_epoch = 2;
  nn::Rows rows(40);
  std::iota(rows.begin(), rows.end(), int64_t{0});
  const nn::FitResult r = nn::fit({&model, {}, {}}, [&](int) { return std::vector<nn::Phase*>{&phase}; }, rows, hooks, o);
  CHECK(r.profile.find("profile of profiled, epoch 2") != std::string::npos);
  auto m = by_op();
  CHECK(m["optimizer step"].optimizer_calls == 4);  // one epoch's steps, not three epochs'
  CHECK(m["gather_rows"].forward_calls == 8);       // x and y per step
  CHECK(m["matmul"].backward_calls == 4);
  CHECK_FALSE(profiler::active());

  o.profile_epoch = 0;
  const nn::FitResult none = nn::fit({&model, {}, {}}, [&](int) { return std::vector<nn::Phase*>{&phase}; }, rows, hooks, o);
  CHECK(none.profile.empty());
}

TEST_CASE("--profile: predict_perturbation and train_multitask print one epoch's op table per network") {
  if (!cg::test::have_app("predict_perturbation") || !cg::test::have_app("train_multitask")) return;
  cg::test::TempDir tmp;
  namespace pp = cg::test::perturb;
  pp::write_data(tmp.file("cells.h5ad"), pp::standard_cells());
  const auto p = cg::test::run_app("predict_perturbation", tmp,
                                   pp::base_args(tmp.file("cells.h5ad"), tmp.file("pp"), "A", "scgen,shift") +
                                       " --epochs 3 --profile --deterministic");
  INFO(p.output);
  CHECK(p.code == 0);
  CHECK(p.output.find("profile of scgen A seed 0, epoch 2") != std::string::npos);
  CHECK(p.output.find("optimizer step") != std::string::npos);
  CHECK(p.output.find("batch_norm") != std::string::npos);

  namespace mt = cg::test::multitask;
  mt::write_modality(tmp.file("a.h5ad"), mt::cell_names(30), 5, 3);
  mt::write_modality(tmp.file("b.h5ad"), mt::cell_names(30), 4, 3);
  const auto t = cg::test::run_app("train_multitask", tmp,
                                   "--modality A=" + tmp.file("a.h5ad") + " --modality B=" + tmp.file("b.h5ad") +
                                       " --label-key type --epochs 3 --device cpu --profile --out " + tmp.file("mt"));
  INFO(t.output);
  CHECK(t.code == 0);
  CHECK(t.output.find(", epoch 2 (training steps") != std::string::npos);
  CHECK(t.output.find("matmul") != std::string::npos);
}
