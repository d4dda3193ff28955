// Loss weighting strategies: fixed, uncertainty, DWA, GradNorm, PCGrad and the factory.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "autograd/error.h"
#include "autograd/ops.h"
#include "autograd/optim.h"
#include "nn/loss_weighting.h"

using namespace cg;
using namespace cg::nn;

namespace {
// A [1, 2] leaf parameter with the given values.
Tensor param2(double a, double b) {
  Tensor t = Tensor::from_vector(std::vector<float>{static_cast<float>(a), static_cast<float>(b)}, {1, 2});
  t.set_requires_grad(true);
  return t;
}
Tensor constant(double v) { return Tensor::from_vector(std::vector<float>{static_cast<float>(v)}, {1}); }
std::vector<double> grad_of(const Tensor& p) { return p.grad().to_vector<double>(); }
}  // namespace

TEST_CASE("fixed weights: weighted sum, defaults to 1, rejects negative weights naming the term") {
  FixedWeights w({"rna", "adt"}, {{"adt", 0.5}});
  const Tensor total = w.combine({{"adt", constant(4.0)}, {"rna", constant(2.0)}});
  CHECK(total.item() == doctest::Approx(2.0 + 0.5 * 4.0));
  CHECK(w.weights().at("rna") == 1.0);
  CHECK(w.weights().at("adt") == 0.5);

  try {
    FixedWeights bad({"rna", "adt"}, {{"adt", -0.1}});
    FAIL("a negative weight was accepted");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("'adt'") != std::string::npos);
  }
  CHECK_THROWS_AS(FixedWeights({"rna"}, {{"atac", 1.0}}), Error);
  CHECK_THROWS_AS(FixedWeights({"rna"}, {{"rna", NAN}}), Error);
}

TEST_CASE("loss weighting: the losses must name exactly the tasks") {
  FixedWeights w({"rna", "adt"}, {});
  try {
    w.combine({{"rna", constant(1.0)}, {"atac", constant(1.0)}});
    FAIL("mismatched names were accepted");
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("missing 'adt'") != std::string::npos);
    CHECK(msg.find("unexpected 'atac'") != std::string::npos);
  }
  CHECK_THROWS_AS(w.combine({{"rna", constant(1.0)}, {"adt", Tensor::zeros({2})}}), Error);
  CHECK_THROWS_AS(FixedWeights({"rna", "rna"}, {}), Error);
}

TEST_CASE("factory: every name builds its strategy, an unknown name lists the valid ones") {
  for (const char* name : {"fixed", "uncertainty", "dwa", "gradnorm", "pcgrad"}) {
    auto w = make_loss_weighting(name, {"a", "b"});
    CHECK(std::string(w->name()) == name);
    CHECK(w->weights().size() == 2);
  }
  try {
    make_loss_weighting("kendall", {"a"});
    FAIL("unknown name accepted");
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("kendall") != std::string::npos);
    CHECK(msg.find("fixed, uncertainty, dwa, gradnorm, pcgrad") != std::string::npos);
  }
}

TEST_CASE("uncertainty weighting: log-variances move to log of each task's loss") {
  for (bool regression : {false, true}) {
    CAPTURE(regression);
    // Two fixed-value losses, 4 and 0.25, times a parameter held at 1 (never stepped).
    Tensor theta = Tensor::ones({1});
    theta.set_requires_grad(true);
    std::set<std::string> reg;
    if (regression) reg = {"big", "small"};
    UncertaintyWeighting w({"big", "small"}, reg);
    CHECK(w.combine({{"big", constant(4.0) * theta}, {"small", constant(0.25) * theta}}).item() ==
          doctest::Approx((regression ? 0.5 : 1.0) * 4.25));
    SGD opt(w.parameters(), SgdOptions{regression ? 0.2 : 0.1});
    for (int step = 0; step < 400; ++step) {
      opt.zero_grad();
      w.backward({{"big", constant(4.0) * theta}, {"small", constant(0.25) * theta}}, {});
      opt.step();
    }
    const auto s = w.log_variances();
    CHECK(std::abs(s.at("big") - std::log(4.0)) < 0.05);
    CHECK(std::abs(s.at("small") - std::log(0.25)) < 0.05);
    // The effective weight c_t exp(-s_t) is then c_t / L_t.
    CHECK(w.weights().at("big") == doctest::Approx((regression ? 0.5 : 1.0) / 4.0).epsilon(0.06));
  }
  CHECK_THROWS_AS(UncertaintyWeighting({"a"}, {"b"}), Error);
}

TEST_CASE("uncertainty weighting: state round trip") {
  UncertaintyWeighting a({"x", "y"}, {}, 0.0);
  a.parameters()[1].fill_(0.75);
  UncertaintyWeighting b({"x", "y"});
  b.load_state(a.state());
  CHECK(b.log_variances().at("y") == doctest::Approx(0.75));
  CHECK_THROWS_AS(b.load_state({}), Error);
}

TEST_CASE("DWA: weights 1 for two epochs, then T softmax(r / 2) on a hand-computed sequence") {
  DWA w({"a", "b"});
  CHECK(w.weights().at("a") == 1.0);
  w.end_epoch({{"a", 1.0}, {"b", 2.0}, {"total", 3.0}});  // extra keys are ignored
  CHECK(w.weights().at("a") == 1.0);
  CHECK(w.weights().at("b") == 1.0);
  w.end_epoch({{"a", 0.5}, {"b", 1.8}});
  // r = (0.5, 0.9): 2 e^0.25 / (e^0.25 + e^0.45), 2 e^0.45 / (e^0.25 + e^0.45)
  CHECK(w.weights().at("a") == doctest::Approx(0.900332005375).epsilon(1e-10));
  CHECK(w.weights().at("b") == doctest::Approx(1.099667994625).epsilon(1e-10));
  const Tensor total = w.combine({{"a", constant(1.0)}, {"b", constant(10.0)}});
  CHECK(total.item() == doctest::Approx(0.900332005375 + 10 * 1.099667994625).epsilon(1e-6));
  w.end_epoch({{"a", 0.4}, {"b", 0.9}});
  // r = (0.8, 0.5)
  CHECK(w.weights().at("a") == doctest::Approx(1.074859690687).epsilon(1e-10));
  CHECK(w.weights().at("b") == doctest::Approx(0.925140309313).epsilon(1e-10));

  DWA restored({"a", "b"});
  restored.load_state(w.state());
  CHECK(restored.weights().at("a") == w.weights().at("a"));

  CHECK_THROWS_AS(w.end_epoch({{"a", 1.0}}), Error);              // b missing
  CHECK_THROWS_AS(w.end_epoch({{"a", 1.0}, {"b", 0.0}}), Error);  // zero mean loss
  CHECK_THROWS_AS(DWA({"a"}, 0.0), Error);
}

TEST_CASE("GradNorm: one step by hand") {
  // L1 = 10 (t0 - 1)^2, L2 = 0.1 (t1 - 1)^2 at t = 0: ||grad L1|| = 20, ||grad L2|| = 0.2.
  Tensor theta = param2(0, 0);
  const Tensor l1 = sum(square(slice(theta, 1, 0, 1) - 1.0)) * 10.0;
  const Tensor l2 = sum(square(slice(theta, 1, 1, 2) - 1.0)) * 0.1;
  GradNorm w({"fast", "slow"}, 1.5, 0.01);
  const Tensor total = w.backward({{"fast", l1}, {"slow", l2}}, {theta});
  CHECK(total.item() == doctest::Approx(10.1));
  // The model's gradient uses the weights before the update (1, 1).
  const auto g = grad_of(theta);
  CHECK(g[0] == doctest::Approx(-20.0));
  CHECK(g[1] == doctest::Approx(-0.2));
  // G = (20, 0.2), target = 10.1 for both (ratios 1): w = (1 - 0.01 * 20, 1 + 0.01 * 0.2) = (0.8, 1.002),
  // rescaled to sum 2.
  CHECK(w.last_gradient_norms().at("fast") == doctest::Approx(20.0));
  CHECK(w.weights().at("fast") == doctest::Approx(0.8 * 2 / 1.802).epsilon(1e-6));
  CHECK(w.weights().at("slow") == doctest::Approx(1.002 * 2 / 1.802).epsilon(1e-6));
  CHECK_THROWS_AS(w.backward({{"fast", l1}, {"slow", l2}}, {}), Error);
}

TEST_CASE("GradNorm: raises the weight of the slower task and keeps the sum at T") {
  // Equal gradient norms at the start (4 and 4), so only the training rates differ:
  // L_fast = 2 (t0 - 1)^2 shrinks geometrically, L_slow = 4 |t1 - 10| shrinks linearly.
  Tensor theta = param2(0, 0);
  GradNorm w({"fast", "slow"}, 1.5, 0.05);
  SGD opt({theta}, SgdOptions{0.05});
  for (int step = 0; step < 20; ++step) {
    opt.zero_grad();
    const Tensor fast = sum(square(slice(theta, 1, 0, 1) - 1.0)) * 2.0;
    const Tensor slow = sum(abs(slice(theta, 1, 1, 2) - 10.0)) * 4.0;
    w.backward({{"fast", fast}, {"slow", slow}}, {theta});
    opt.step();
    const auto ws = w.weights();
    CHECK(ws.at("fast") + ws.at("slow") == doctest::Approx(2.0).epsilon(1e-12));
    if (step == 0) CHECK(ws.at("fast") == 1.0);  // equal norms and equal rates: no change yet
  }
  CHECK(w.weights().at("slow") > 1.2);
  CHECK(w.weights().at("fast") < 0.8);

  GradNorm restored({"fast", "slow"});
  restored.load_state(w.state());
  CHECK(restored.weights().at("slow") == w.weights().at("slow"));
}

TEST_CASE("PCGrad: conflicting gradients are projected as written out by hand") {
  // L1 = t . (1, 0), L2 = t . (-1, 1): g1 = (1, 0), g2 = (-1, 1), g1 . g2 = -1 < 0.
  // g1' = g1 - (-1 / 2) g2 = (0.5, 0.5); g2' = g2 - (-1 / 1) g1 = (0, 1); sum (0.5, 1.5).
  Tensor theta = param2(0.3, -0.7);
  const Tensor a = Tensor::from_vector(std::vector<float>{1, 0}, {1, 2});
  const Tensor b = Tensor::from_vector(std::vector<float>{-1, 1}, {1, 2});
  PCGrad w({"l1", "l2"}, 7);
  w.backward({{"l1", sum(theta * a)}, {"l2", sum(theta * b)}}, {theta});
  auto g = grad_of(theta);
  CHECK(g[0] == doctest::Approx(0.5));
  CHECK(g[1] == doctest::Approx(1.5));
  CHECK(w.last_conflicts() == 2);

  // Without conflict the result is the plain sum; an existing gradient is added to, not replaced.
  Tensor phi = param2(0, 0);
  phi.set_grad(Tensor::from_vector(std::vector<float>{10, 10}, {1, 2}));
  const Tensor c = Tensor::from_vector(std::vector<float>{1, 1}, {1, 2});
  w.backward({{"l1", sum(phi * a)}, {"l2", sum(phi * c)}}, {phi});
  g = grad_of(phi);
  CHECK(g[0] == doctest::Approx(12.0));
  CHECK(g[1] == doctest::Approx(11.0));
  CHECK(w.last_conflicts() == 0);
}

TEST_CASE("PCGrad: three tasks, the seeded order is reproducible and parameters not listed get the plain sum") {
  auto run = [](uint64_t seed) {
    Tensor theta = param2(0, 0);
    Tensor head = Tensor::zeros({1});
    head.set_requires_grad(true);
    const Tensor a = Tensor::from_vector(std::vector<float>{1, 0}, {1, 2});
    const Tensor b = Tensor::from_vector(std::vector<float>{-1, 1}, {1, 2});
    const Tensor c = Tensor::from_vector(std::vector<float>{0.5f, -2}, {1, 2});
    PCGrad w({"a", "b", "c"}, seed);
    w.backward({{"a", sum(theta * a) + sum(head)}, {"b", sum(theta * b) + sum(head) * 2.0}, {"c", sum(theta * c)}},
               {theta});
    CHECK(head.grad().item() == doctest::Approx(3.0));
    return grad_of(theta);
  };
  const auto g1 = run(3), g2 = run(3);
  CHECK(g1 == g2);
  // a and b conflict, b and c conflict (a and c do not), so projections change the result
  // away from the plain sum (0.5, -1).
  CHECK(!(std::abs(g1[0] - 0.5) < 1e-6 && std::abs(g1[1] + 1.0) < 1e-6));
}
