// nn::fit, the one training loop: batching and shuffling, the weighted backward, early stopping
// and the best state, the non-finite guard, checkpoints and the metrics log; and the
// loss-weighting registry that the apps read.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <string>

#include "autograd/engine.h"
#include "autograd/error.h"
#include "autograd/ops.h"
#include "autograd/optim.h"
#include "nn/checkpoint.h"
#include "nn/fit.h"
#include "nn/layers.h"
#include "nn/training.h"

using namespace cg;
using namespace cg::nn;

namespace {

// y = 3 x0 - 2 x1 + 1 on 64 rows, learned by one Linear.
struct Regression {
  std::vector<float> x, y;
  int64_t rows = 64;
  Regression() {
    Generator g(11, 0);
    const Tensor t = g.normal({rows, 2}, Device::CPU);
    x = t.to_vector<float>();
    for (int64_t r = 0; r < rows; ++r) y.push_back(3.0f * x[r * 2] - 2.0f * x[r * 2 + 1] + 1.0f);
  }
  Tensor batch_x(const Rows& rows) const {
    std::vector<float> v;
    for (int64_t r : rows) v.insert(v.end(), x.begin() + r * 2, x.begin() + r * 2 + 2);
    return Tensor::from_vector(v, {static_cast<int64_t>(rows.size()), 2});
  }
  Tensor batch_y(const Rows& rows) const {
    std::vector<float> v;
    for (int64_t r : rows) v.push_back(y[static_cast<size_t>(r)]);
    return Tensor::from_vector(v, {static_cast<int64_t>(rows.size()), 1});
  }
};

Rows all_rows(int64_t n) {
  Rows r(static_cast<size_t>(n));
  std::iota(r.begin(), r.end(), int64_t{0});
  return r;
}

struct Setup {
  Regression data;
  Generator init{5, 0};
  std::shared_ptr<Linear> model = std::make_shared<Linear>(2, 1, init);
  std::unique_ptr<Adam> adam;
  Phase phase;
  Setup(double lr = 0.05) {
    AdamOptions o;
    o.lr = lr;
    adam = std::make_unique<Adam>(model->parameters(), o);
    phase.name = "main";
    phase.optimizer = adam.get();
    phase.forward = [this](const Rows& rows) {
      StepTerms t;
      const Tensor loss = mean(square(sub(model->forward(data.batch_x(rows)), data.batch_y(rows))));
      t.weighted = {{"mse", loss}};
      t.logged = {{"mse", loss}};
      return t;
    };
  }
  double full_loss() {
    NoGradGuard ng;
    const Rows rows = all_rows(data.rows);
    return mean(square(sub(model->forward(data.batch_x(rows)), data.batch_y(rows)))).item();
  }
};

FitHooks validate_on_train(Setup& s) {
  FitHooks h;
  h.validate = [&s](int, EpochRow& row) { row["val_loss"] = s.full_loss(); };
  return h;
}

}  // namespace

TEST_CASE("shuffled_batches: the engine's Fisher-Yates, carried over passes, small batches skipped") {
  Rows order = all_rows(10);
  Generator g(7, 3), ref(7, 3);
  const auto batches = shuffled_batches(order, g, 4, 3);
  // 10 rows in batches of 4: 4, 4, 2 -> the last (2 < 3) is skipped.
  REQUIRE(batches.size() == 2);
  Rows expected = all_rows(10);
  for (size_t i = expected.size() - 1; i > 0; --i)
    std::swap(expected[i], expected[ref.next_below(static_cast<uint32_t>(i + 1))]);
  CHECK(order == expected);
  CHECK(batches[0] == Rows(expected.begin(), expected.begin() + 4));
  CHECK(batches[1] == Rows(expected.begin() + 4, expected.begin() + 8));
  // The next pass shuffles the previous order, not the identity.
  shuffled_batches(order, g, 4, 1);
  for (size_t i = expected.size() - 1; i > 0; --i)
    std::swap(expected[i], expected[ref.next_below(static_cast<uint32_t>(i + 1))]);
  CHECK(order == expected);
  CHECK_THROWS_AS(shuffled_batches(order, g, 0, 1), Error);
}

TEST_CASE("fit trains, logs every epoch and is reproducible") {
  auto run = [] {
    Setup s;
    FitOptions o;
    o.epochs = 30;
    o.patience = 30;
    o.batch_size = 16;
    o.label = "fit test";
    const double before = s.full_loss();
    const FitResult r = fit(
        {s.model.get(), {}, {}}, [&](int) { return std::vector<Phase*>{&s.phase}; }, all_rows(64), validate_on_train(s),
        o);
    CHECK(r.history.size() == 30);
    CHECK(r.terms == std::vector<std::string>{"mse"});
    CHECK(r.history.front().count("train_mse") == 1);
    CHECK(s.full_loss() < before * 0.05);                               // it learned
    CHECK(s.full_loss() == doctest::Approx(r.best_val).epsilon(1e-6));  // and holds the best epoch
    return s.model->weight.to_vector<double>();
  };
  CHECK(run() == run());  // same seed, same bits
}

TEST_CASE("fit stops after `patience` epochs without improvement and restores the best epoch") {
  Setup s(0.05);
  FitOptions o;
  o.epochs = 50;
  o.patience = 3;
  o.batch_size = 64;
  o.label = "fit test";
  // A validation loss that improves for 5 epochs and then only gets worse.
  FitHooks h;
  std::vector<std::vector<double>> weights;
  h.validate = [&](int epoch, EpochRow& row) {
    weights.push_back(s.model->weight.to_vector<double>());
    row["val_loss"] = epoch <= 5 ? 10.0 - epoch : 10.0 + epoch;
  };
  const FitResult r = fit(
      {s.model.get(), {}, {}}, [&](int) { return std::vector<Phase*>{&s.phase}; }, all_rows(64), h, o);
  CHECK(r.best_epoch == 5);
  CHECK(r.history.size() == 8);  // epochs 6, 7, 8 did not improve
  CHECK(s.model->weight.to_vector<double>() == weights[4]);
}

TEST_CASE("fit: a non-finite term is named with its epoch; a missing val_loss is an error") {
  Setup s;
  FitOptions o;
  o.epochs = 5;
  o.label = "fit test";
  s.phase.forward = [&](const Rows& rows) {
    StepTerms t;
    const Tensor loss = mean(square(s.model->forward(s.data.batch_x(rows))));
    t.weighted = {{"mse", loss}};
    t.logged = {{"mse", loss}, {"broken", log(mul_scalar(loss, 0.0))}};
    return t;
  };
  try {
    fit(
        {s.model.get(), {}, {}}, [&](int) { return std::vector<Phase*>{&s.phase}; }, all_rows(64), validate_on_train(s),
        o);
    FAIL("a non-finite loss passed");
  } catch (const NonFiniteLoss& e) {
    CHECK(e.term == "broken");
    CHECK(std::string(e.what()).find("fit test: the loss term 'broken' became -inf at epoch 1 (the model diverged") ==
          0);
  }
  Setup t;
  FitHooks none;
  none.validate = [](int, EpochRow&) {};
  CHECK_THROWS_WITH_AS(
      fit(
          {t.model.get(), {}, {}}, [&](int) { return std::vector<Phase*>{&t.phase}; }, all_rows(64), none, o),
      doctest::Contains("no val_loss"), Error);
  CHECK_THROWS_AS(fit(
                      {t.model.get(), {}, {}}, [&](int) { return std::vector<Phase*>{&t.phase}; }, Rows{0}, none, o),
                  Error);
}

TEST_CASE("fit with checkpoint files: best.h5 holds the best epoch, last.h5 the optimizer and shuffle state") {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("cellgrad_fit_" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(dir);
  Setup s;
  FitOptions o;
  o.epochs = 6;
  o.patience = 10;
  o.batch_size = 16;
  o.label = "fit test";
  o.best_checkpoint = dir + "/best.h5";
  o.last_checkpoint = dir + "/last.h5";
  o.history_csv = dir + "/history.csv";
  const FitResult r = fit(
      {s.model.get(), {}, {}}, [&](int) { return std::vector<Phase*>{&s.phase}; }, all_rows(64), validate_on_train(s),
      o);
  // last.h5 restores into a fresh model + optimizer + generator named as fit saved them.
  Setup fresh;
  Generator shuffle(0, 0);
  TrainingState last;
  last.modules = {{"model", fresh.model.get()}};
  last.optimizers = {{"main", fresh.adam.get()}};
  last.generators = {{"shuffle", &shuffle}};
  load_checkpoint(o.last_checkpoint, last);
  CHECK(last.epoch == 6);
  CHECK(last.scalars.at("best_epoch") == r.best_epoch);
  CHECK(fresh.adam->step_count() == s.adam->step_count());
  std::ifstream csv(o.history_csv);
  std::string header;
  std::getline(csv, header);
  CHECK(header.rfind("epoch,", 0) == 0);
  CHECK(header.find("train_mse") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("loss-weighting registry: every strategy by name, with its needs; unknown names listed") {
  std::set<std::string> names;
  for (const auto& e : loss_weightings()) {
    names.insert(e.name);
    CHECK(!e.description.empty());
    const auto w = e.make({"a", "b"}, {});
    CHECK(std::string(w->name()) == e.name);
  }
  CHECK(names == std::set<std::string>{"fixed", "uncertainty", "dwa", "gradnorm", "pcgrad"});
  CHECK(loss_weighting("gradnorm").needs == WeightingNeeds::LastSharedLayer);
  CHECK(loss_weighting("pcgrad").needs == WeightingNeeds::SharedParameters);
  CHECK(loss_weighting("fixed").needs == WeightingNeeds::Nothing);
  CHECK_THROWS_WITH_AS(loss_weighting("mgda"),
                       doctest::Contains("expected one of: fixed, uncertainty, dwa, gradnorm, pcgrad"), Error);
}
