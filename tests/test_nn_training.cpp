// Training utilities: minibatch iterator, early stopping, warm-up schedule, metrics logger and
// the non-finite loss guard.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <sstream>
#include <string>

#include "autograd/error.h"
#include "autograd/optim.h"
#include "nn/training.h"

using namespace cg;
using namespace cg::nn;

namespace {
std::vector<float> matrix(int64_t rows, int64_t cols) {
  std::vector<float> m(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) m[r * cols + c] = static_cast<float>(r * 100 + c);  // row id recoverable
  return m;
}

std::vector<std::vector<int64_t>> epoch_orders(MinibatchIterator& it, int epochs) {
  std::vector<std::vector<int64_t>> out;
  Batch b;
  for (int e = 0; e < epochs; ++e) {
    out.emplace_back();
    while (it.next(b)) out.back().insert(out.back().end(), b.rows.begin(), b.rows.end());
  }
  return out;
}

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}
}  // namespace

TEST_CASE("minibatch iterator: every row exactly once per epoch, rows and labels gathered correctly") {
  const int64_t rows = 23, cols = 3;
  const auto data = matrix(rows, cols);
  std::vector<int32_t> labels(rows);
  std::iota(labels.begin(), labels.end(), 1000);
  std::vector<float> size_factors(rows);
  for (int64_t r = 0; r < rows; ++r) size_factors[r] = 0.5f * r;

  MinibatchIterator::Options o;
  o.batch_size = 5;
  MinibatchIterator it(data.data(), rows, cols, std::make_shared<Generator>(42), o);
  it.add_labels("cell_type", labels.data(), rows);
  it.add_columns("size_factor", size_factors.data(), rows, 1);
  CHECK(it.batches_per_epoch() == 5);

  std::vector<std::vector<int64_t>> seen;
  for (int epoch = 0; epoch < 3; ++epoch) {
    Batch b;
    std::vector<int64_t> order;
    int batches = 0;
    while (it.next(b)) {
      ++batches;
      const int64_t n = static_cast<int64_t>(b.rows.size());
      CHECK(b.x.shape() == Shape{n, cols});
      CHECK(n == (batches < 5 ? 5 : 3));
      const auto x = b.x.to_vector<float>();
      const auto lab = b.extra.at("cell_type").to_vector<int32_t>();
      const auto sf = b.extra.at("size_factor").to_vector<float>();
      CHECK(b.extra.at("cell_type").dtype() == DType::I32);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t r = b.rows[i];
        CHECK(x[i * cols + 2] == static_cast<float>(r * 100 + 2));
        CHECK(lab[i] == 1000 + r);
        CHECK(sf[i] == 0.5f * r);
      }
      order.insert(order.end(), b.rows.begin(), b.rows.end());
    }
    CHECK(batches == 5);
    std::vector<int64_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int64_t> expected(rows);
    std::iota(expected.begin(), expected.end(), 0);
    CHECK(sorted == expected);  // a permutation: each row exactly once
    seen.push_back(order);
  }
  CHECK(it.epoch() == 3);
  CHECK(seen[0] != seen[1]);  // reshuffled every epoch
  CHECK(it.order() == seen[2]);
}

TEST_CASE("minibatch iterator: same seed gives the same order, another seed another, no shuffle keeps order") {
  const auto data = matrix(50, 2);
  MinibatchIterator::Options o;
  o.batch_size = 8;
  MinibatchIterator a(data.data(), 50, 2, std::make_shared<Generator>(5), o);
  MinibatchIterator b(data.data(), 50, 2, std::make_shared<Generator>(5), o);
  MinibatchIterator c(data.data(), 50, 2, std::make_shared<Generator>(6), o);
  const auto oa = epoch_orders(a, 3), ob = epoch_orders(b, 3), oc = epoch_orders(c, 3);
  CHECK(oa == ob);
  CHECK(oa != oc);

  o.shuffle = false;
  MinibatchIterator plain(data.data(), 50, 2, nullptr, o);
  const auto op = epoch_orders(plain, 1);
  std::vector<int64_t> identity(50);
  std::iota(identity.begin(), identity.end(), 0);
  CHECK(op[0] == identity);
}

TEST_CASE("minibatch iterator: drop_last drops the remainder; a CPU tensor and float64 output work") {
  const auto data = matrix(23, 3);
  Tensor t = Tensor::from_vector(data, {23, 3});
  MinibatchIterator::Options o;
  o.batch_size = 5;
  o.drop_last = true;
  o.dtype = DType::F64;
  MinibatchIterator it(t, std::make_shared<Generator>(1), o);
  CHECK(it.batches_per_epoch() == 4);
  Batch b;
  int batches = 0;
  std::set<int64_t> rows;
  while (it.next(b)) {
    ++batches;
    CHECK(b.rows.size() == 5);
    CHECK(b.x.dtype() == DType::F64);
    rows.insert(b.rows.begin(), b.rows.end());
  }
  CHECK(batches == 4);
  CHECK(rows.size() == 20);  // 3 rows dropped this epoch
  CHECK(it.next(b));         // the next call starts a new epoch

  CHECK_THROWS_AS(
      MinibatchIterator(data.data(), 23, 3, std::make_shared<Generator>(1), MinibatchIterator::Options{50, true, true}),
      Error);  // drop_last with fewer rows than a batch: no batch at all
  CHECK_THROWS_AS(MinibatchIterator(data.data(), 23, 3, nullptr, MinibatchIterator::Options{}), Error);
  MinibatchIterator ok(data.data(), 23, 3, std::make_shared<Generator>(1), MinibatchIterator::Options{});
  std::vector<int32_t> short_labels(5);
  CHECK_THROWS_AS(ok.add_labels("y", short_labels.data(), 5), Error);
}

TEST_CASE("early stopping: stops after `patience` non-improving epochs, min_delta and max mode") {
  EarlyStopping es("val_loss", EarlyStopping::Mode::Min, 3, 0.01);
  CHECK(es.update(1.0).improved);
  CHECK(es.update(0.5).improved);
  auto d = es.update(0.495);  // within min_delta: not an improvement
  CHECK(!d.improved);
  CHECK(!d.stop);
  d = es.update(NAN);
  CHECK(!d.improved);
  CHECK(!d.stop);              // 2 of 3
  CHECK(es.update(0.6).stop);  // the third non-improving epoch in a row
  CHECK(es.epochs_without_improvement() == 3);
  CHECK(es.should_stop());
  CHECK(es.best() == 0.5);
  CHECK(es.best_epoch() == 1);

  EarlyStopping up("val_accuracy", parse_early_stopping_mode("max"), 2);
  CHECK(up.update({{"val_accuracy", 0.7}}).improved);
  CHECK(!up.update({{"val_accuracy", 0.6}}).stop);
  CHECK(up.update({{"val_accuracy", 0.8}}).improved);  // resets the count
  CHECK(!up.update({{"val_accuracy", 0.8}}).stop);
  CHECK(up.update({{"val_accuracy", 0.1}}).stop);
  CHECK_THROWS_WITH_AS(up.update({{"val_loss", 0.1}}), doctest::Contains("val_accuracy"), Error);
  CHECK_THROWS_AS(parse_early_stopping_mode("lowest"), Error);

  EarlyStopping restored("val_loss", EarlyStopping::Mode::Min, 3, 0.01);
  restored.load_state(es.state());
  CHECK(restored.best() == 0.5);
  CHECK(restored.should_stop());
}

TEST_CASE("warm-up schedule: linear warm-up, constant or cosine afterwards, applied to an optimizer") {
  WarmupSchedule flat(0.1, 4);
  CHECK(flat.lr_at(0) == doctest::Approx(0.025));
  CHECK(flat.lr_at(1) == doctest::Approx(0.05));
  CHECK(flat.lr_at(3) == doctest::Approx(0.1));
  CHECK(flat.lr_at(100) == doctest::Approx(0.1));

  WarmupSchedule cosine(0.1, 2, 12, 0.01);
  CHECK(cosine.lr_at(0) == doctest::Approx(0.05));
  CHECK(cosine.lr_at(2) == doctest::Approx(0.1));                // start of the cosine phase
  CHECK(cosine.lr_at(7) == doctest::Approx(0.01 + 0.09 * 0.5));  // halfway: cos(pi/2) = 0
  CHECK(cosine.lr_at(12) == doctest::Approx(0.01));
  CHECK(cosine.lr_at(50) == doctest::Approx(0.01));

  WarmupSchedule none(0.3, 0);
  CHECK(none.lr_at(0) == doctest::Approx(0.3));

  Tensor p = Tensor::zeros({2});
  p.set_requires_grad(true);
  SGD opt({p}, SgdOptions{1.0});
  flat.apply(opt, 1);
  CHECK(opt.lr() == doctest::Approx(0.05));
  CHECK_THROWS_AS(WarmupSchedule(0.1, 10, 5), Error);
}

TEST_CASE("metrics logger: CSV and JSON lines read back, with every term and weight") {
  const std::string base = "/tmp/cellgrad_metrics_" + std::to_string(getpid());
  const std::string csv = base + ".csv", jsonl = base + ".jsonl";
  {
    MetricsLogger log(csv, jsonl);
    MetricsLogger::Row r1;
    r1.set("step", 1).set("phase", "train, warm").set_all("loss.", {{"rna", 0.5}, {"adt", 1.0 / 3.0}});
    r1.set_all("weight.", {{"rna", 1.0}, {"adt", 2.0}});
    log.log(r1);
    MetricsLogger::Row r2;
    r2.set("step", 2).set("loss.rna", NAN).set("loss.adt", 0.25);  // phase and weights left out
    log.log(r2);
    MetricsLogger::Row r3;
    r3.set("step", 3).set("val_loss", 1.0);
    CHECK_THROWS_WITH_AS(log.log(r3), doctest::Contains("val_loss"), Error);
    CHECK(log.columns().size() == 6);
  }
  const auto c = lines(csv);
  REQUIRE(c.size() == 3);  // the rejected row wrote nothing
  CHECK(c[0] == "step,phase,loss.adt,loss.rna,weight.adt,weight.rna");
  CHECK(c[1].rfind("1,\"train, warm\",", 0) == 0);
  // 17 significant digits read back exactly.
  const std::string third = c[1].substr(c[1].find("warm\",") + 6);
  CHECK(std::strtod(third.c_str(), nullptr) == 1.0 / 3.0);
  CHECK(c[2] == "2,,0.25,nan,,");

  const auto j = lines(jsonl);
  REQUIRE(j.size() == 2);
  const auto j1 = nlohmann::json::parse(j[0]);
  CHECK(j1.at("step") == 1);
  CHECK(j1.at("phase") == "train, warm");
  CHECK(j1.at("loss.adt").get<double>() == 1.0 / 3.0);
  CHECK(j1.at("weight.adt").get<double>() == 2.0);
  const auto j2 = nlohmann::json::parse(j[1]);
  CHECK(j2.at("loss.rna").is_null());
  CHECK(!j2.contains("phase"));

  {
    // Appending keeps the existing header.
    MetricsLogger more(csv, "", /*append=*/true);
    MetricsLogger::Row r;
    r.set("loss.rna", 0.125).set("step", 4);
    more.log(r);
    CHECK_THROWS_AS(more.log(MetricsLogger::Row().set("epoch", 1)), Error);
  }
  const auto c2 = lines(csv);
  REQUIRE(c2.size() == 4);
  CHECK(c2[3] == "4,,,0.125,,");
  std::remove(csv.c_str());
  std::remove(jsonl.c_str());
  CHECK_THROWS_AS(MetricsLogger("/nonexistent_dir_cellgrad/x.csv", ""), Error);
}

TEST_CASE("non-finite loss guard names the first bad term") {
  const Tensor ok = Tensor::full({1}, 0.5);
  const Tensor bad = Tensor::full({1}, NAN);
  const Tensor inf = Tensor::full({1}, INFINITY);
  CHECK(check_finite_losses({{"rna", ok}, {"adt", ok}}) == std::vector<double>{0.5, 0.5});
  try {
    check_finite_losses({{"rna", ok}, {"kl", inf}, {"adt", bad}}, 17);
    FAIL("a non-finite loss passed");
  } catch (const NonFiniteLoss& e) {
    CHECK(e.term == "kl");
    CHECK(std::isinf(e.value));
    const std::string msg = e.what();
    CHECK(msg.find("'kl'") != std::string::npos);
    CHECK(msg.find("step 17") != std::string::npos);
  }
  CHECK_THROWS_AS(check_finite_losses(std::map<std::string, double>{{"recon", NAN}}), Error);
  check_finite_losses(std::map<std::string, double>{{"recon", 1.0}});
}
