// Feature attributions: integrated gradients and expected gradients against closed forms on
// linear models, completeness on a nonlinear MLP, row stacking against a one-point-at-a-time
// reference, the eval-mode and parameter-gradient contract, ranking, and the CSV / .h5ad writers.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/error.h"
#include "autograd/ops.h"
#include "nn/attribution.h"
#include "nn/mlp.h"
#include "omics/attribution_io.h"
#include "omics/error.h"
#include "tests/op_check.h"
#include "tests/test_omics_io_util.h"

using namespace cg;
using namespace cg::nn;
using cg::test::random_input;

namespace {

// Row-major host copy of a float tensor as an Eigen matrix.
AttributionMatrix host(const Tensor& t) {
  const std::vector<double> v = t.to_vector<double>();
  return Eigen::Map<const AttributionMatrix>(v.data(), t.rows(), t.cols());
}

// Linear(F_in -> F_out) in float64 with random weights and bias, in eval mode.
std::shared_ptr<Linear> linear_f64(int64_t in, int64_t out, uint64_t seed) {
  Generator gen(seed);
  auto lin = std::make_shared<Linear>(in, out, gen);
  lin->to(DType::F64);
  Generator b(seed + 100);
  lin->bias.copy_(b.normal({out}, Device::CPU, DType::F64));
  lin->eval();
  return lin;
}

std::shared_ptr<Sequential> tanh_mlp_f64(std::vector<int64_t> widths, uint64_t seed, bool batch_norm = false) {
  MLPConfig cfg;
  cfg.widths = std::move(widths);
  cfg.activation = Activation::Tanh;
  cfg.batch_norm = batch_norm;
  Generator gen(seed);
  auto mlp = make_mlp(cfg, gen, std::make_shared<Generator>(seed + 1));
  mlp->to(DType::F64);
  mlp->eval();
  return mlp;
}

// IG of output o for cell n computed the slow way: one single-row forward and backward per step.
std::vector<double> naive_ig(const AttributionFn& f, const AttributionMatrix& x, const AttributionMatrix& base,
                             int64_t n, int64_t o, int64_t steps) {
  const int64_t F = x.cols();
  std::vector<double> ig(F, 0.0);
  for (int64_t s = 0; s < steps; ++s) {
    const double a = (s + 0.5) / steps;
    std::vector<double> p(F);
    for (int64_t i = 0; i < F; ++i) p[i] = base(0, i) + a * (x(n, i) - base(0, i));
    Tensor pt = Tensor::from_vector(p, {1, F});
    pt.set_requires_grad(true);
    const Tensor out = f(pt);
    sum(slice(out, 1, o, o + 1)).backward();
    const std::vector<double> g = pt.grad().to_vector<double>();
    for (int64_t i = 0; i < F; ++i) ig[i] += (x(n, i) - base(0, i)) * g[i] / steps;
  }
  return ig;
}

// RFC 4180 fields of one CSV line.
std::vector<std::string> csv_split(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("integrated gradients: on a linear model with a zero baseline, IG = x * W exactly, per cell") {
  const int64_t N = 5, F_in = 6, F_out = 3;
  auto lin = linear_f64(F_in, F_out, 1);
  const AttributionFn f = [&](const Tensor& in) { return lin->forward(in); };
  const Tensor x = random_input({N, F_in}, 2, 1.0, 0.0, false);
  const AttributionMatrix X = host(x), W = host(lin->weight);

  AttributionOptions opt;
  opt.model = lin.get();
  opt.keep_per_cell = true;
  for (IGRule rule : {IGRule::Midpoint, IGRule::Trapezoid}) {
    for (int64_t max_rows : {int64_t(4096), int64_t(10), int64_t(3)}) {  // all steps in one forward; 2; 1
      opt.max_rows = max_rows;
      opt.max_accumulator_values = max_rows == 10 ? N * F_in : int64_t(1) << 24;  // one output per group
      const AttributionResult r = integrated_gradients(f, x, Tensor::zeros({F_in}, DType::F64), 7, opt, rule);
      INFO("rule " << int(rule) << ", max_rows " << max_rows);
      REQUIRE(r.per_cell.size() == size_t(F_out));
      CHECK(r.method == "integrated_gradients");
      CHECK(r.steps == 7);
      double worst = 0;
      for (int64_t o = 0; o < F_out; ++o)
        for (int64_t n = 0; n < N; ++n)
          for (int64_t i = 0; i < F_in; ++i) worst = std::max(worst, std::abs(r.per_cell[o](n, i) - X(n, i) * W(o, i)));
      CHECK(worst < 1e-13);
      // The summaries are the means over cells of |IG| and IG.
      for (int64_t o = 0; o < F_out; ++o)
        for (int64_t i = 0; i < F_in; ++i) {
          CHECK(r.mean_abs(o, i) == doctest::Approx((X.col(i) * W(o, i)).cwiseAbs().mean()).epsilon(1e-12));
          CHECK(r.mean_signed(o, i) == doctest::Approx(X.col(i).mean() * W(o, i)).epsilon(1e-12));
        }
      // Completeness: f(x) - f(0) = x W^T exactly for a linear map.
      CHECK(r.max_completeness_error() < 1e-12);
      CHECK((r.output_delta - X * W.transpose()).cwiseAbs().maxCoeff() < 1e-12);
    }
  }
  // The model's parameters got no gradient and still require one afterwards.
  CHECK_FALSE(lin->weight.grad().defined());
  CHECK_FALSE(lin->bias.grad().defined());
  CHECK(lin->weight.requires_grad());
  CHECK(lin->bias.requires_grad());

  // A per-cell baseline: IG = (x - x') * W.
  const Tensor base = random_input({N, F_in}, 3, 1.0, 0.0, false);
  const AttributionMatrix B = host(base);
  AttributionOptions keep;
  keep.keep_per_cell = true;
  const AttributionResult r = integrated_gradients(f, x, base, 3, keep);
  for (int64_t o = 0; o < F_out; ++o)
    CHECK((r.per_cell[o] - ((X - B).array().rowwise() * W.row(o).array()).matrix()).cwiseAbs().maxCoeff() < 1e-13);
}

TEST_CASE("expected gradients: on a linear model, EG = (x - x') * W, and its mean is (x - E[x']) * W") {
  const int64_t N = 6, F_in = 5, F_out = 2;
  auto lin = linear_f64(F_in, F_out, 4);
  const AttributionFn f = [&](const Tensor& in) { return lin->forward(in); };
  const Tensor x = random_input({N, F_in}, 5, 1.0, 0.0, false);
  const AttributionMatrix X = host(x), W = host(lin->weight);
  AttributionOptions opt;
  opt.model = lin.get();
  opt.keep_per_cell = true;
  opt.max_rows = 4 * N;  // several forwards

  // One background row: every sample has the same reference, so EG = (x - b) * W whatever alpha is.
  {
    const Tensor bg = random_input({1, F_in}, 6, 1.0, 0.0, false);
    const AttributionMatrix Bg = host(bg);
    Generator gen(7);
    const AttributionResult r = expected_gradients(f, x, bg, 9, gen, opt);
    CHECK(r.method == "expected_gradients");
    for (int64_t o = 0; o < F_out; ++o)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < F_in; ++i)
          CHECK(std::abs(r.per_cell[o](n, i) - (X(n, i) - Bg(0, i)) * W(o, i)) < 1e-13);
  }

  // Many background rows with distinct means: the mean over cells of signed EG approaches
  // (mean x - E[x']) * W; each cell's attribution sums to f(x) - (mean of f over its samples).
  const int64_t B = 4;
  std::vector<double> bgv(B * F_in);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < F_in; ++i) bgv[b * F_in + i] = 3.0 * b - 4.0 + 0.1 * i;  // spread: sd ~ 3.4
  const Tensor bg = Tensor::from_vector(bgv, {B, F_in});
  const AttributionMatrix Bg = host(bg);
  const int64_t samples = 2000;
  Generator gen(8);
  const AttributionResult r = expected_gradients(f, x, bg, samples, gen, opt);
  CHECK(r.max_completeness_error() < 1e-10);  // exact for a linear map, up to rounding
  const Eigen::RowVectorXd bg_mean = Bg.colwise().mean();
  for (int64_t o = 0; o < F_out; ++o)
    for (int64_t i = 0; i < F_in; ++i) {
      const double expect = (X.col(i).mean() - bg_mean(i)) * W(o, i);
      // N * samples = 12000 draws of a row with sd ~3.4: the sampled mean is within ~0.03 * 5 sd.
      CHECK(std::abs(r.mean_signed(o, i) - expect) < 0.15 * std::abs(W(o, i)) + 1e-12);
    }
  // Per cell, EG = (x_n - mean of that cell's sampled rows) * W: the implied sampled mean is the
  // same for every output and feature column of a cell (one draw per sample, shared by all).
  for (int64_t n = 0; n < N; ++n) {
    const double implied0 = X(n, 0) - r.per_cell[0](n, 0) / W(0, 0);
    const double implied1 = X(n, 0) - r.per_cell[1](n, 0) / W(1, 0);
    CHECK(implied0 == doctest::Approx(implied1).epsilon(1e-9));
    // and it is a mean of background values of feature 0 (between the smallest and largest)
    CHECK(implied0 >= Bg.col(0).minCoeff() - 1e-9);
    CHECK(implied0 <= Bg.col(0).maxCoeff() + 1e-9);
  }

  // The same seed gives the same attributions; another seed different ones.
  Generator again(8), other(9);
  const AttributionResult r2 = expected_gradients(f, x, bg, samples, again, opt);
  const AttributionResult r3 = expected_gradients(f, x, bg, samples, other, opt);
  CHECK((r.mean_abs - r2.mean_abs).cwiseAbs().maxCoeff() == 0.0);
  CHECK((r.mean_abs - r3.mean_abs).cwiseAbs().maxCoeff() > 0.0);
}

TEST_CASE(
    "integrated gradients: completeness on a tanh MLP within 1e-3 at 200 steps, and stacked rows match one-row runs") {
  const int64_t N = 7, F_in = 8, F_out = 4;
  auto mlp = tanh_mlp_f64({F_in, 16, 16, F_out}, 11);
  const AttributionFn f = [&](const Tensor& in) { return mlp->forward(in); };
  const Tensor x = random_input({N, F_in}, 12, 1.5, 0.0, false);
  const Tensor base = random_input({1, F_in}, 13, 0.5, 0.0, false);
  AttributionOptions opt;
  opt.model = mlp.get();
  opt.keep_per_cell = true;
  opt.max_rows = 50;  // 7 steps of 7 cells per forward: several forwards, last one partial

  const AttributionResult r = integrated_gradients(f, x, base, 200, opt);
  const double scale = r.output_delta.cwiseAbs().maxCoeff();
  INFO("max |f(x) - f(x')| = " << scale << ", completeness error = " << r.max_completeness_error());
  CHECK(scale > 0.1);  // the check is not vacuous
  CHECK(r.max_completeness_error() < 1e-3);
  // The path integral matters: the gradient at x alone times (x - x') is far from complete.
  const AttributionResult coarse = integrated_gradients(f, x, base, 1, opt);
  CHECK(coarse.max_completeness_error() > 10 * r.max_completeness_error());
  // Midpoint and trapezoid converge to the same integral.
  const AttributionResult trap = integrated_gradients(f, x, base, 200, opt, IGRule::Trapezoid);
  CHECK(trap.max_completeness_error() < 1e-3);
  CHECK((trap.mean_abs - r.mean_abs).cwiseAbs().maxCoeff() < 1e-3);

  // Stacking cells and steps into one batch gives what single-row passes give.
  const AttributionMatrix X = host(x), Bs = host(base);
  for (auto [n, o] : {std::pair<int64_t, int64_t>{0, 1}, {5, 3}}) {
    const std::vector<double> ref = naive_ig(f, X, Bs, n, o, 200);
    for (int64_t i = 0; i < F_in; ++i) CHECK(std::abs(r.per_cell[o](n, i) - ref[i]) < 1e-12);
  }
}

TEST_CASE("attribution: the model must be in eval mode; batch norm in eval mode keeps rows independent") {
  const int64_t N = 6, F_in = 5;
  auto mlp = tanh_mlp_f64({F_in, 8, 3}, 21, /*batch_norm=*/true);
  // Give the running statistics non-trivial values so eval-mode batch norm is not the identity.
  for (auto& [name, b] : mlp->named_buffers()) {
    if (name.find("running_mean") != std::string::npos) b.fill_(0.3);
    if (name.find("running_var") != std::string::npos) b.fill_(2.0);
  }
  const AttributionFn f = [&](const Tensor& in) { return mlp->forward(in); };
  const Tensor x = random_input({N, F_in}, 22, 1.0, 0.0, false);
  AttributionOptions opt;
  opt.model = mlp.get();
  opt.keep_per_cell = true;
  const AttributionResult r = integrated_gradients(f, x, Tensor::zeros({F_in}, DType::F64), 200, opt);
  CHECK(r.max_completeness_error() < 1e-3);
  // Cell 2 alone gives the same attributions as cell 2 among the others.
  const AttributionResult alone =
      integrated_gradients(f, slice(x, 0, 2, 3), Tensor::zeros({F_in}, DType::F64), 200, opt);
  for (int64_t o = 0; o < 3; ++o)
    CHECK((alone.per_cell[o].row(0) - r.per_cell[o].row(2)).cwiseAbs().maxCoeff() < 1e-12);

  mlp->train();
  CHECK_THROWS_WITH_AS(integrated_gradients(f, x, Tensor::zeros({F_in}, DType::F64), 10, opt),
                       doctest::Contains("training mode"), cg::Error);
  Generator gen(1);
  CHECK_THROWS_WITH_AS(expected_gradients(f, x, x, 10, gen, opt), doctest::Contains("training mode"), cg::Error);
  mlp->eval();
  for (const auto& [name, p] : mlp->named_parameters()) {
    INFO(name);
    CHECK(p.requires_grad());
    CHECK_FALSE(p.grad().defined());
  }
}

TEST_CASE("attribution: bad inputs are refused with a clear message") {
  auto lin = linear_f64(4, 2, 31);
  const AttributionFn f = [&](const Tensor& in) { return lin->forward(in); };
  const Tensor x = random_input({3, 4}, 32, 1.0, 0.0, false);
  Generator gen(1);
  CHECK_THROWS_WITH_AS(integrated_gradients(f, x, Tensor::zeros({5}, DType::F64)), doctest::Contains("features"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(integrated_gradients(f, x, Tensor::zeros({2, 4}, DType::F64)),
                       doctest::Contains("one row per cell"), cg::Error);
  CHECK_THROWS_WITH_AS(integrated_gradients(f, x, Tensor::zeros({4})), doctest::Contains("dtype"), cg::Error);
  CHECK_THROWS_WITH_AS(integrated_gradients(f, x, Tensor::zeros({4}, DType::F64), 0), doctest::Contains("steps"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(integrated_gradients(f, reshape(x, {12}), Tensor::zeros({4}, DType::F64)),
                       doctest::Contains("2-D"), cg::Error);
  CHECK_THROWS_WITH_AS(expected_gradients(f, x, Tensor::zeros({0, 4}, DType::F64), 5, gen), doctest::Contains("empty"),
                       cg::Error);
  // f that cuts the graph, and f that mixes rows into a different row count.
  const AttributionFn detached = [&](const Tensor& in) { return lin->forward(in).detach(); };
  CHECK_THROWS_WITH_AS(integrated_gradients(detached, x, Tensor::zeros({4}, DType::F64)),
                       doctest::Contains("does not depend on its input"), cg::Error);
  const AttributionFn pooled = [&](const Tensor& in) { return mean_cols(lin->forward(in)); };
  CHECK_THROWS_WITH_AS(integrated_gradients(pooled, x, Tensor::zeros({4}, DType::F64)),
                       doctest::Contains("one output row per input row"), cg::Error);
}

TEST_CASE("top_features: outputs that depend only on features {o, o+5} rank exactly those first") {
  const int64_t N = 20, F_in = 10, F_out = 5;
  Generator g(41);
  auto lin = std::make_shared<Linear>(F_in, F_out, g);
  lin->to(DType::F64);
  lin->eval();
  std::vector<double> w(F_out * F_in, 0.0);
  for (int64_t o = 0; o < F_out; ++o) {
    w[o * F_in + o] = 0.5 + 0.2 * o;  // feature o
    w[o * F_in + o + 5] = -1.5;       // feature o+5, stronger and negative
  }
  lin->weight.copy_(Tensor::from_vector(w, {F_out, F_in}));
  const AttributionFn f = [&](const Tensor& in) { return tanh(lin->forward(in)); };
  const Tensor x = random_input({N, F_in}, 42, 1.0, 0.0, false);
  AttributionOptions opt;
  opt.model = lin.get();
  Generator eg_gen(43);
  std::vector<std::string> genes, proteins;
  for (int64_t i = 0; i < F_in; ++i) genes.push_back("g" + std::to_string(i));
  for (int64_t o = 0; o < F_out; ++o) proteins.push_back("p" + std::to_string(o));

  const AttributionResult ig = integrated_gradients(f, x, Tensor::zeros({F_in}, DType::F64), 50, opt);
  const AttributionResult eg = expected_gradients(f, x, random_input({30, F_in}, 44, 1.0, 0.0, false), 30, eg_gen, opt);
  for (const AttributionResult* r : {&ig, &eg}) {
    INFO(r->method);
    const auto top = omics::top_features(r->mean_abs, genes, proteins, 2, r->mean_signed);
    REQUIRE(top.size() == size_t(2 * F_out));
    for (int64_t o = 0; o < F_out; ++o) {
      const std::set<std::string> got{top[2 * o].feature, top[2 * o + 1].feature};
      CHECK(got == std::set<std::string>{"g" + std::to_string(o), "g" + std::to_string(o + 5)});
      CHECK(top[2 * o].output == proteins[o]);
      CHECK(top[2 * o].rank == 1);
      CHECK(top[2 * o + 1].rank == 2);
      CHECK(top[2 * o].score >= top[2 * o + 1].score);
      CHECK(top[2 * o + 1].score > 0);
      CHECK(omics::rank_of(r->mean_abs, genes, proteins, "g" + std::to_string(o), proteins[o]) <= 2);
      CHECK(omics::rank_of(r->mean_abs, genes, proteins, "g" + std::to_string(o + 5), proteins[o]) <= 2);
      // Irrelevant features get exactly zero attribution.
      for (int64_t i = 0; i < F_in; ++i)
        if (i != o && i != o + 5) {
          CHECK(r->mean_abs(o, i) == 0.0);
          CHECK(omics::rank_of(r->mean_abs, o, i) > 2);
        }
    }
  }
  // rank_of, rank_matrix and the full ranking agree, ties broken by lower feature index.
  omics::DenseMatrixD tied(1, 4);
  tied << 1.0, 3.0, 1.0, 3.0;
  const auto all = omics::top_features(tied, {"a", "b", "c", "d"}, {"o"}, 0);
  REQUIRE(all.size() == 4);
  CHECK(all[0].feature == "b");
  CHECK(all[1].feature == "d");
  CHECK(all[2].feature == "a");
  CHECK(all[3].feature == "c");
  const omics::DenseMatrixD ranks = omics::rank_matrix(tied);
  for (const auto& rf : all) {
    CHECK(omics::rank_of(tied, 0, rf.feature_index) == rf.rank);
    CHECK(ranks(0, rf.feature_index) == rf.rank);
  }
  CHECK_THROWS_WITH_AS(omics::rank_of(tied, {"a", "b", "c", "d"}, {"o"}, "zz", "o"), doctest::Contains("'zz'"),
                       omics::DataError);
  CHECK_THROWS_AS(omics::top_features(tied, {"a", "b"}, {"o"}, 2), omics::DataError);
  tied(0, 2) = NAN;
  CHECK_THROWS_WITH_AS(omics::top_features(tied, {"a", "b", "c", "d"}, {"o"}, 2), doctest::Contains("finite"),
                       omics::DataError);
}

TEST_CASE("attribution writers: CSV and .h5ad read back") {
  cg::test::TempDir tmp;
  omics::DenseMatrixD scores(3, 4), signed_mean(3, 4);
  scores << 0.5, 2.0, 0.1, 1.0,  //
      3.0, 0.0, 0.2, 0.25,       //
      0.1, 0.1, 0.3, 0.05;
  signed_mean = -0.5 * scores;
  const std::vector<std::string> genes{"CD3E", "HLA,DR \"x\"", "MS4A1", "NCAM1"};
  const std::vector<std::string> proteins{"CD3", "CD19", "CD56"};

  const auto rows = omics::top_features(scores, genes, proteins, 2, signed_mean);
  const std::string csv = tmp.file("top.csv");
  omics::write_attribution_csv(csv, rows);
  std::ifstream in(csv);
  std::string line;
  REQUIRE(std::getline(in, line));
  CHECK(line == "output,rank,feature,score,signed_score");
  std::vector<std::vector<std::string>> parsed;
  while (std::getline(in, line)) parsed.push_back(csv_split(line));
  REQUIRE(parsed.size() == 6);
  const std::vector<std::vector<std::string>> expect_head{{"CD3", "1", "HLA,DR \"x\""}, {"CD3", "2", "NCAM1"},
                                                          {"CD19", "1", "CD3E"},        {"CD19", "2", "NCAM1"},
                                                          {"CD56", "1", "MS4A1"},       {"CD56", "2", "CD3E"}};
  for (size_t i = 0; i < parsed.size(); ++i) {
    INFO("row " << i);
    REQUIRE(parsed[i].size() == 5);
    CHECK(parsed[i][0] == expect_head[i][0]);
    CHECK(parsed[i][1] == expect_head[i][1]);
    CHECK(parsed[i][2] == expect_head[i][2]);
    CHECK(std::stod(parsed[i][3]) == rows[i].score);
    CHECK(std::stod(parsed[i][4]) == rows[i].signed_score);
    CHECK(rows[i].signed_score == -0.5 * rows[i].score);
  }

  omics::AttributionTable table;
  table.scores = scores;
  table.signed_mean = signed_mean;
  table.feature_names = genes;
  table.output_names = proteins;
  table.method = "integrated_gradients";
  table.uns["steps"] = omics::UnsValue::number(50, true);
  const std::string h5 = tmp.file("attr.h5ad");
  omics::write_attribution_h5ad(h5, table);
  const omics::AnnData a = omics::read_h5ad(h5);
  CHECK(a.obs.index == proteins);
  CHECK(a.var.index == genes);
  const omics::DenseMatrix X = a.dense_X();
  REQUIRE(X.rows() == 3);
  REQUIRE(X.cols() == 4);
  CHECK((X.cast<double>() - scores).cwiseAbs().maxCoeff() < 1e-7);
  REQUIRE(a.layers.count("signed_mean"));
  CHECK((a.layers.at("signed_mean").to_dense().cast<double>() - signed_mean).cwiseAbs().maxCoeff() < 1e-7);
  REQUIRE(a.layers.count("rank"));
  const omics::DenseMatrix rank = a.layers.at("rank").to_dense();
  CHECK(rank(0, 1) == 1);  // CD3: HLA,DR first
  CHECK(rank(0, 2) == 4);
  CHECK(rank(1, 0) == 1);
  CHECK(a.obs.labels("top_feature") == std::vector<std::string>{"HLA,DR \"x\"", "CD3E", "MS4A1"});
  REQUIRE(a.uns.count("attribution/method"));
  CHECK(a.uns.at("attribution/method").strings == std::vector<std::string>{"integrated_gradients"});
  REQUIRE(a.uns.count("attribution/steps"));
  CHECK(a.uns.at("attribution/steps").numbers == std::vector<double>{50});

  // Python's anndata reads it too, when installed.
  if (std::system("/usr/bin/python3 -c 'import anndata' >/dev/null 2>&1") != 0) {
    MESSAGE("skipping the Python anndata read-back of the attribution .h5ad: /usr/bin/python3 cannot import anndata");
  } else {
    const std::string cmd =
        "/usr/bin/python3 -c \"import anndata as ad, sys; a = ad.read_h5ad(sys.argv[1]); "
        "assert a.shape == (3, 4); assert list(a.obs_names) == ['CD3', 'CD19', 'CD56']; "
        "assert 'rank' in a.layers\" " +
        h5 + " >/dev/null 2>&1";
    CHECK(std::system(cmd.c_str()) == 0);
  }

  // Mismatched names: an error, and no file left behind.
  table.feature_names.pop_back();
  const std::string bad = tmp.file("bad.h5ad");
  CHECK_THROWS_AS(omics::write_attribution_h5ad(bad, table), omics::DataError);
  CHECK_FALSE(std::ifstream(bad).good());
}
