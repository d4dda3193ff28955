// Rank-value encodings as model inputs (omics/input_encoding.h; --preprocess rank|rank-top100|bins
// in train_multitask and predict_perturbation): the values on small matrices computed by hand,
// rank's medians from the training cells only, cells with nothing to encode, and through the
// built binaries the saved-and-reloaded model, the bad names and the encoded-space outputs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "apps/common/model_folder.h"
#include "omics/anndata.h"
#include "omics/input_encoding.h"
#include "omics/normalize.h"
#include "test_omics_io_util.h"
#include "tests/app_runner.h"
#include "tests/predict_perturbation_fixtures.h"

using namespace cg::omics;
using cg::test::TempDir;

namespace {

CsrMatrix csr(const std::vector<std::vector<float>>& rows) {
  DenseMatrix d(static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size()));
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < rows[i].size(); ++j) d(static_cast<int64_t>(i), static_cast<int64_t>(j)) = rows[i][j];
  return CsrMatrix::from_dense(d);
}

std::vector<float> row_of(const EncodedCells& e, int64_t r) {
  const DenseMatrix d = e.x.to_dense();
  return std::vector<float>(d.row(r).data(), d.row(r).data() + d.cols());
}

// Three training cells of counts and a fourth, new one.
const std::vector<std::vector<float>> kTrain = {{2, 0, 4, 2}, {1, 3, 0, 6}, {0, 1, 2, 2}};
const std::vector<float> kNew = {9, 0, 0, 1};

bool has_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
  } catch (const std::exception& e) {
    const std::string m = e.what();
    for (const auto& p : parts)
      if (m.find(p) == std::string::npos) {
        FAIL_CHECK("'" << p << "' not in: " << m);
        return false;
      }
    return true;
  }
  return false;
}

}  // namespace

TEST_CASE("input encodings: rank divides by the training cells' nonzero medians and codes rank r as 1 - (r-1)/2048") {
  // Counts scaled to 10,000 per cell: c0 [2500, 0, 5000, 2500], c1 [1000, 3000, 0, 6000],
  // c2 [0, 2000, 4000, 4000]; nonzero medians 1750, 2500, 4500, 4000 (the new cell, 9000 in
  // gene 0, would move gene 0's to 2500 if it were counted).
  const InputEncoding e = fit_input_encoding("rank", csr(kTrain), false, "test");
  CHECK(e.medians == std::vector<double>{1750, 2500, 4500, 4000});
  const InputEncoding with_new = fit_input_encoding("rank", csr({kTrain[0], kTrain[1], kTrain[2], kNew}), false, "t");
  CHECK(with_new.medians[0] == 2500);

  const EncodedCells out = apply_input_encoding(e, csr({kTrain[0], kTrain[1], kTrain[2], kNew}), "test");
  const float s1 = 1.0f - 1.0f / 2048, s2 = 1.0f - 2.0f / 2048;
  // c0: 2500/1750 > 5000/4500 > 2500/4000; c1: 6000/4000 > 3000/2500 > 1000/1750;
  // c2: 4000/4000 > 4000/4500 > 2000/2500; new: 9000/1750 > 1000/4000.
  CHECK(row_of(out, 0) == std::vector<float>{1, 0, s1, s2});
  CHECK(row_of(out, 1) == std::vector<float>{s2, s1, 0, 1});
  CHECK(row_of(out, 2) == std::vector<float>{0, s2, s1, 1});
  CHECK(row_of(out, 3) == std::vector<float>{1, 0, 0, s1});
  CHECK(out.empty_cells.empty());

  // The same cells as log1p of the normalised values: expm1 brings back the scale the medians
  // need, and the encoding is the same.
  CsrMatrix logged = csr({kTrain[0], kTrain[1], kTrain[2], kNew});
  normalize_total(logged, 1e4);
  log1p_inplace(logged);
  CsrMatrix logged_train = csr(kTrain);
  normalize_total(logged_train, 1e4);
  log1p_inplace(logged_train);
  const InputEncoding l = fit_input_encoding("rank", logged_train, true, "test");
  for (size_t g = 0; g < 4; ++g) CHECK(l.medians[g] == doctest::Approx(e.medians[g]).epsilon(1e-5));
  CHECK(apply_input_encoding(l, logged, "test").x.to_dense() == out.x.to_dense());
}

TEST_CASE("input encodings: rank-top100 keeps the 100 highest genes, ties share their mean position; bins / 50") {
  const InputEncoding top = fit_input_encoding("rank-top100", csr(kTrain), false, "test");
  CHECK(top.medians.empty());  // nothing learned from the data
  CHECK(row_of(apply_input_encoding(top, csr({kTrain[1]}), "t"), 0) == std::vector<float>{0.98f, 0.99f, 0, 1});
  // Two equal values share positions 1 and 2: 1 - 0.5 / 100 each.
  CHECK(row_of(apply_input_encoding(top, csr({{0, 5, 0, 5}}), "t"), 0) == std::vector<float>{0, 0.995f, 0, 0.995f});
  // 103 genes valued 1..103: the 100 highest are listed (gene 102 first, gene 3 last), 0..2 are not.
  std::vector<float> many(103);
  for (size_t g = 0; g < many.size(); ++g) many[g] = static_cast<float>(g + 1);
  const std::vector<float> coded = row_of(apply_input_encoding(top, csr({many}), "t"), 0);
  CHECK(coded[102] == 1.0f);
  CHECK(coded[3] == doctest::Approx(0.01).epsilon(1e-6));
  CHECK(coded[0] == 0.0f);
  CHECK(coded[2] == 0.0f);
  CHECK(std::count(coded.begin(), coded.end(), 0.0f) == 3);

  // 51 bins: the 50 edges are the nonzero values' quantiles (1 + 4 i / 49 for values 1..5), a
  // value's bin is the count of edges <= it: 1, 13, 25, 37, 50; divided by 50.
  const InputEncoding bins = fit_input_encoding("bins", csr(kTrain), false, "test");
  CHECK(row_of(apply_input_encoding(bins, csr({{1, 2, 0, 3, 4, 5}}), "t"), 0) ==
        std::vector<float>{1 / 50.0f, 13 / 50.0f, 0, 25 / 50.0f, 37 / 50.0f, 1});
}

TEST_CASE("input encodings: cells with nothing to encode are reported and all zeros; bad input is one clear error") {
  // Trained on c0 only, gene 1 has no median: a cell expressing only gene 1 has nothing rank can
  // scale (cell2sentence's top 100 still lists it); an all-zero cell has nothing for any encoding.
  const CsrMatrix cells = csr({{0, 5, 0, 0}, {0, 0, 0, 0}, {1, 0, 0, 0}});
  for (const std::string name : {"rank", "rank-top100", "bins"}) {
    CAPTURE(name);
    const EncodedCells out = apply_input_encoding(fit_input_encoding(name, csr({kTrain[0]}), false, "t"), cells, "t");
    const DenseMatrix d = out.x.to_dense();
    CHECK(d.allFinite());
    CHECK(d.row(1).isZero());
    CHECK(d(2, 0) > 0);
    CHECK(out.empty_cells == (name == "rank" ? std::vector<int64_t>{0, 1} : std::vector<int64_t>{1}));
  }
  CHECK(describe_cells({0, 1}, {"a", "b", "c"}) == "'a', 'b'");
  CHECK(describe_cells({0, 1, 2, 3}, {}) == "row 0, row 1, row 2, ...");
  CHECK(has_error([] { fit_input_encoding("ranks", csr(kTrain), false, "--preprocess"); },
                  {"unknown encoding 'ranks'", "rank, rank-top100, bins"}));
  CHECK(has_error([] { fit_input_encoding("rank", csr({{1, -2, 0, 1}}), false, "cells.h5ad"); },
                  {"cells.h5ad", "negative value"}));
  const InputEncoding e = fit_input_encoding("rank", csr(kTrain), false, "t");
  CHECK(has_error([&] { apply_input_encoding(e, csr({{1, 2, 3}}), "new.h5ad"); },
                  {"new.h5ad", "4 gene medians for 3"}));
}

namespace {

namespace fs = std::filesystem;
using Result = cg::test::AppResult;

// train_multitask's two modalities: RNA counts (cell c3 all zeros) and a dense "E", 40 cells, two
// types; the counts differ between types so that a classifier has something to learn.
void write_multitask_files(const std::string& rna, const std::string& e) {
  const int cells = 40, genes = 10;
  AnnData a, b;
  DenseMatrix x(cells, genes), y(cells, 3);
  std::vector<std::string> types;
  for (int i = 0; i < cells; ++i) {
    for (int j = 0; j < genes; ++j) x(i, j) = i == 3 ? 0.0f : static_cast<float>((i * 7 + j * 3 + (i % 2) * j) % 6);
    for (int j = 0; j < 3; ++j) y(i, j) = static_cast<float>((i * 5 + j) % 7) / 3.0f + 0.5f * (i % 2);
    a.obs.index.push_back("c" + std::to_string(i));
    types.push_back("type" + std::to_string(i % 2));
  }
  a.obs.set("type", Column::categorical(types));
  b.obs = a.obs;
  for (int j = 0; j < genes; ++j) a.var.index.push_back("g" + std::to_string(j));
  for (int j = 0; j < 3; ++j) b.var.index.push_back("e" + std::to_string(j));
  a.X = Matrix::from(x);
  b.X = Matrix::from(y);
  write_h5ad(rna, a);
  write_h5ad(e, b);
}

std::vector<std::string> cells_of(const std::string& split_csv, const std::string& which) {
  std::ifstream f(split_csv);
  std::string line;
  std::getline(f, line);
  std::vector<std::string> out;
  while (std::getline(f, line))
    if (line.substr(line.rfind(',') + 1) == which) out.push_back(line.substr(0, line.find(',')));
  return out;
}

// Per gene, the median of the nonzero values (each cell scaled to 10,000) over the cells `rows`.
std::vector<double> nonzero_medians(const DenseMatrix& x, const std::vector<int64_t>& rows) {
  std::vector<double> med;
  for (int64_t g = 0; g < x.cols(); ++g) {
    std::vector<double> v;
    for (int64_t r : rows)
      if (x(r, g) > 0) v.push_back(double(x(r, g)) / double(x.row(r).sum()) * 1e4);
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    med.push_back(n == 0 ? 0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
  }
  return med;
}

}  // namespace

TEST_CASE("train_multitask --preprocess rank: medians of the training cells kept in the model; predict reproduces "
          "the run; bad names and empty cells are said clearly") {
  if (!cg::test::have_app("train_multitask")) return;
  TempDir tmp;
  const std::string rna = tmp.file("rna.h5ad"), e = tmp.file("e.h5ad"), out = tmp.file("train");
  write_multitask_files(rna, e);
  const std::string files = "--modality RNA=" + rna + " --modality E=" + e + " --label-key type --device cpu ";

  const Result bad = cg::test::run_app("train_multitask", tmp, files + "--preprocess RNA=ranks --out " + out);
  INFO(bad.output);
  CHECK(bad.code != 0);
  CHECK(bad.output.rfind("train_multitask: error: --preprocess RNA: unknown value 'ranks' (expected ", 0) == 0);
  CHECK(bad.output.find("rank-top100") != std::string::npos);
  CHECK(std::count(bad.output.begin(), bad.output.end(), '\n') == 1);
  CHECK_FALSE(fs::exists(out));

  const Result r = cg::test::run_app(
      "train_multitask", tmp, files + "--preprocess RNA=rank --epochs 3 --seed 1 --baselines none --out " + out);
  REQUIRE_MESSAGE(r.code == 0, r.output);
  CHECK(r.output.find("warning: " + rna + ": modality 'RNA': 1 of 40 cells have nothing to encode under --preprocess "
                      "RNA=rank ('c3')") != std::string::npos);
  CHECK(cg::test::perturb::read_text(out + "/warnings.txt").find("'c3'") != std::string::npos);

  // model.json: the gene medians of the training cells (not validation, not test), per input gene.
  const cg::apps::ModelFolder folder = cg::apps::open_model_folder(out + "/model", "train_multitask");
  const nlohmann::json& m = folder.model["modalities"][0];
  REQUIRE(m["preprocess"] == "rank");
  CHECK(m["encoding_input"] == "counts");
  const AnnData a = read_h5ad(rna);
  std::map<std::string, int64_t> row;
  for (size_t i = 0; i < a.obs.index.size(); ++i) row[a.obs.index[i]] = static_cast<int64_t>(i);
  std::vector<int64_t> train, all;
  for (const auto& c : cells_of(out + "/split.csv", "train")) train.push_back(row.at(c));
  for (int64_t i = 0; i < a.n_obs(); ++i) all.push_back(i);
  REQUIRE(train.size() < 35);
  const std::vector<double> stored = m["gene_medians"], expected = nonzero_medians(a.X.to_dense(), train);
  REQUIRE(stored.size() == 10);
  for (size_t g = 0; g < stored.size(); ++g) CHECK(stored[g] == doctest::Approx(expected[g]).epsilon(1e-9));
  CHECK(stored != nonzero_medians(a.X.to_dense(), all));  // the check can tell the two apart

  // Saved and reloaded: the same latents and classes, bit for bit, and the same warning.
  const Result p = cg::test::run_app("train_multitask", tmp,
                                     "predict --model " + out + "/model --modality RNA=" + rna + " --modality E=" + e +
                                         " --device cpu --out " + tmp.file("pred"));
  REQUIRE_MESSAGE(p.code == 0, p.output);
  CHECK(p.output.find("1 of 40 cells have nothing to encode") != std::string::npos);
  const AnnData trained = read_h5ad(out + "/latent.h5ad"), predicted = read_h5ad(tmp.file("pred/latent.h5ad"));
  REQUIRE(predicted.obs.index == trained.obs.index);
  CHECK(trained.obsm.at("X_latent").allFinite());
  CHECK(predicted.obsm.at("X_latent") == trained.obsm.at("X_latent"));
  CHECK(predicted.obs.labels("predicted_type") == trained.obs.labels("predicted_type"));
}

TEST_CASE("predict_perturbation --preprocess rank|rank-top100|bins: scored in the encoded space, kept with a model") {
  using namespace cg::test::perturb;
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad");
  write_data(data, standard_cells());

  check_refused(run(tmp, base_args(data, tmp.file("bad")) + " --preprocess ranks"), tmp.file("bad"),
                {"--preprocess: unknown value 'ranks' (expected one of: none, log1p, rank, rank-top100, bins)"});

  const auto bench = run(tmp, base_args(data, tmp.file("bench")) + " --preprocess rank-top100");
  REQUIRE_MESSAGE(bench.code == 0, bench.output);
  CHECK(contains(read_text(tmp.file("bench/table.md")), "scored in the encoded space"));
  CHECK(cg::test::read_json(tmp.file("bench/config.json"))["preprocess"] == "rank-top100");
  {
    // `control` predicts the control cells as they are: encoded. All 20 genes are expressed, so
    // each is listed, at 1 - p / 100 for a (mean, when tied) position p in 0..19: a multiple of
    // 1/200 between 0.81 and 1.
    const DenseMatrix pred = read_h5ad(tmp.file("bench/A/control/seed0/predicted.h5ad")).X.to_dense();
    REQUIRE(pred.rows() == 12);
    CHECK(pred.minCoeff() >= 0.81f - 1e-6f);
    CHECK(pred.maxCoeff() <= 1.0f);
    for (int64_t i = 0; i < pred.size(); ++i) {
      const double halves = (1.0 - pred.data()[i]) * 200;
      CHECK(std::abs(halves - std::round(halves)) < 1e-3);
    }
  }

  const auto train = run(tmp, "train --data " + data + " --model shift --preprocess rank" + kCheap + " --out " +
                                    tmp.file("train"));
  REQUIRE_MESSAGE(train.code == 0, train.output);
  const nlohmann::json model = cg::test::read_json(tmp.file("train/model/model.json"));
  REQUIRE(model.contains("encoding"));
  CHECK(model["encoding"]["name"] == "rank");
  CHECK(model["encoding"]["gene_medians"].size() == kGenes);

  const std::string predict = "predict --device cpu --data " + data + " --model " + tmp.file("train/model");
  const auto p = run(tmp, predict + " --out " + tmp.file("pred"));
  REQUIRE_MESSAGE(p.code == 0, p.output);
  const nlohmann::json metrics = cg::test::read_json(tmp.file("pred/metrics.json"));
  CHECK(contains(metrics["values"].get<std::string>(), "--preprocess rank"));
  const DenseMatrix pred = read_h5ad(tmp.file("pred/predicted.h5ad")).X.to_dense();
  CHECK(pred.maxCoeff() < 1.5f);  // shift adds a difference of encoded means; log1p values reach ~3
  CHECK(metrics["cell_types"]["A"]["metrics"]["r2_all"].is_number());

  check_refused(run(tmp, predict + " --preprocess bins --out " + tmp.file("pred2")), tmp.file("pred2"),
                {"--preprocess bins: the model was trained with --preprocess rank"});
}
