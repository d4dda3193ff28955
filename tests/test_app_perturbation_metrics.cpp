// predict_perturbation's benchmark metrics and residual decoding, through the binary (apps are
// not linked into the test binary). The log-fold-change agreement and the type rank are
// recomputed here from the written predictions and the input file; the technical duplicate
// row must reach near the ceiling on data whose groups differ only by small noise; and
// residual decoding is checked against its formula x_ctrl + Dec(z + delta) - Dec(z) with the
// two decodes made observable through saved models: the model as trained, predicting directly
// (Dec(z + delta)), and the same model with its response removed (a zero latent shift, or
// MTAe's FiLM treating the target condition as the control), predicting directly (Dec(z)).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "apps/common/model_folder.h"
#include "apps/common/perturbation_models.h"
#include "nn/checkpoint.h"
#include "omics/anndata.h"
#include "omics/metrics_deg.h"
#include "tests/predict_perturbation_fixtures.h"

using namespace cg::test::perturb;
namespace fs = std::filesystem;
using cg::omics::DenseMatrix;

using cg::test::read_json;
using cg::test::write_json;

namespace {

DenseMatrix X_of(const std::string& h5ad) { return cg::omics::read_h5ad(h5ad).dense_X(); }

// A copy of the model folder `dir` changed by `edit` and sealed again, so that predict accepts it.
std::string edited_model(const TempDir& tmp, const std::string& dir, const std::string& name,
                         const std::function<void(const std::string&)>& edit) {
  const std::string copy = tmp.file(name);
  fs::copy(dir, copy, fs::copy_options::recursive);
  edit(copy);
  std::vector<std::string> files;
  const nlohmann::json manifest = read_json(copy + "/manifest.json");
  for (auto it = manifest["files"].begin(); it != manifest["files"].end(); ++it) files.push_back(it.key());
  cg::apps::seal_model_folder(copy, "predict_perturbation", files);
  return copy;
}

void set_decode(const std::string& dir, const std::string& mode) {
  nlohmann::json c = read_json(dir + "/config.json");
  c["decode"] = mode;
  write_json(dir + "/config.json", c);
}

nlohmann::json zeros(size_t n) { return nlohmann::json(std::vector<double>(n, 0.0)); }

// The fitted response of a latent-shift model set to no shift at all.
void remove_latent_shift(const std::string& dir) {
  nlohmann::json m = read_json(dir + "/model.json");
  for (auto& [value, response] : m["responses"].items()) {
    if (response.contains("latent_shift")) response["latent_shift"] = zeros(response["latent_shift"].size());
    if (response.contains("latent_shift_mean")) {  // scVIDR: delta = (centroid - mean) W + shift mean
      response["latent_shift_mean"] = zeros(response["latent_shift_mean"].size());
      for (auto& row : response["regression"]) row = zeros(row.size());
    }
  }
  write_json(dir + "/model.json", m);
}

// MTAe's FiLM heads made to treat the target condition (one-hot column 1) exactly as the control
// (column 0): then Dec(z, c_target) is Dec(z, c_control) bit for bit, the MTAe form of no shift.
void film_target_as_control(const std::string& dir) {
  // The network as config.json's resolved recipe describes it (MtaeSpec's defaults are the thesis's blocks).
  const nlohmann::json c = read_json(dir + "/config.json");
  const nlohmann::json& r = c["model_settings"]["mtae"];
  cg::perturb::MtaeSpec spec;
  spec.genes = kGenes;
  spec.conditions = 2;
  spec.hidden = r["hidden"].get<std::vector<int64_t>>();
  spec.latent = r["latent"].get<int64_t>();
  spec.input_dropout = r["input_dropout"].get<double>();
  spec.dropout = r["dropout"].get<double>();
  cg::perturb::MultiTaskAE net(spec, c["seeds"][0].get<uint64_t>());
  cg::nn::TrainingState state;
  state.modules = {{"model", &net}};
  state.metadata = "mtae";
  cg::nn::load_checkpoint(dir + "/weights.h5", state);
  int edited = 0;
  for (auto& [name, w] : net.named_parameters()) {
    if (name.rfind("film_", 0) != 0 || name.find("weight") == std::string::npos) continue;
    float* p = w.data<float>();
    const int64_t rows = w.dim(0), cols = w.dim(1);
    if (rows == 2)
      for (int64_t k = 0; k < cols; ++k) p[cols + k] = p[k];
    else
      for (int64_t r = 0; r < rows; ++r) p[r * cols + 1] = p[r * cols];
    ++edited;
  }
  REQUIRE_MESSAGE(edited == 2, "expected FiLM gamma and beta weights, found " << edited);
  cg::nn::save_checkpoint(dir + "/weights.h5", state);
}

// Rows of the input file with the given type and condition, in file order (predict and the
// benchmark predict a type's controls in that order).
std::vector<int64_t> rows_of(const Cells& cells, const std::string& type, const std::string& condition) {
  std::vector<int64_t> r;
  for (size_t i = 0; i < cells.size(); ++i)
    if (cells[i].first == type && cells[i].second == condition) r.push_back(static_cast<int64_t>(i));
  return r;
}

DenseMatrix take(const DenseMatrix& X, const std::vector<int64_t>& rows) {
  DenseMatrix out(static_cast<int64_t>(rows.size()), X.cols());
  for (size_t i = 0; i < rows.size(); ++i) out.row(static_cast<int64_t>(i)) = X.row(rows[i]);
  return out;
}

float max_abs_difference(const DenseMatrix& a, const DenseMatrix& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return (a - b).cwiseAbs().maxCoeff();
}

// Independent of the app's code: plain loops in double.
std::vector<double> means(const DenseMatrix& m) {
  std::vector<double> v(static_cast<size_t>(m.cols()), 0.0);
  for (int64_t r = 0; r < m.rows(); ++r)
    for (int64_t c = 0; c < m.cols(); ++c) v[c] += m(r, c);
  for (auto& x : v) x /= static_cast<double>(m.rows());
  return v;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  double ma = 0, mb = 0;
  for (size_t i = 0; i < a.size(); ++i) ma += a[i], mb += b[i];
  ma /= a.size(), mb /= b.size();
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i)
    ab += (a[i] - ma) * (b[i] - mb), aa += (a[i] - ma) * (a[i] - ma), bb += (b[i] - mb) * (b[i] - mb);
  return ab / std::sqrt(aa * bb);
}

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
  return ab / std::sqrt(aa * bb);
}

std::vector<double> pick(const std::vector<double>& v, const std::vector<int64_t>& genes) {
  std::vector<double> out;
  for (int64_t g : genes) out.push_back(v[g]);
  return out;
}

// A deterministic pseudo-random number in [0, 1) per (cell, gene) (splitmix64's finaliser).
float jitter(int64_t i, int j) {
  uint64_t h = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(j + 1) * 0xC2B2AE3D27D4EB4Full;
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
  h ^= h >> 31;
  return static_cast<float>(h >> 40) / static_cast<float>(1 << 24);
}

// Every group is a gene baseline plus a type offset plus noise of +-0.2; the first five genes
// respond to the perturbation by 0.4, 0.8, ... 2.0, scaled up by type (A 1x, B 1.5x, C 2x), so
// the response has a direction to get right and differs between types.
float noisy_value(int64_t i, int j, const std::string& type, const std::string& condition) {
  const float t = static_cast<float>(type[0] - 'A');
  const float response = condition != "control" && j < 5 ? 0.4f * static_cast<float>(j + 1) * (1.0f + 0.5f * t) : 0.0f;
  return 0.3f + 0.1f * static_cast<float>(j) + 0.2f * t + response + 0.4f * (jitter(i, j) - 0.5f);
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

const nlohmann::json& row_of(const std::vector<nlohmann::json>& rows, const std::string& model,
                             const std::string& type) {
  for (const auto& r : rows)
    if (r["model"] == model && r["cell_type"] == type) return r;
  static const nlohmann::json none;
  FAIL("results.jsonl has no row for " << model << " " << type);
  return none;
}

void check_relative(double found, double expected, const std::string& what) {
  INFO(what << ": found " << found << ", expected " << expected);
  CHECK(std::isfinite(expected));
  CHECK(std::abs(found - expected) <= 1e-9 * std::max(1e-12, std::abs(expected)));
}

}  // namespace

TEST_CASE(
    "predict_perturbation metrics: logFC Pearson and cosine and the type rank as recomputed from the predictions; "
    "the duplicate row is the ceiling") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), out = tmp.file("run");
  const Cells cells = groups({"A", "B", "C"}, {"control", "stim"}, 16);
  write_data(data, cells, noisy_value);
  const Result r = run(tmp, base_args(data, out, "all", "control,shift,scgen") + " --epochs 3 --latent 4");
  REQUIRE_MESSAGE(r.code == 0, r.output);
  const DenseMatrix X = X_of(data);
  const auto results = read_jsonl(out + "/results.jsonl");
  const std::vector<std::string> types = {"A", "B", "C"};

  for (const std::string model : {"control", "shift", "scgen"}) {
    std::map<std::string, std::vector<double>> predicted_mean, real_mean;
    for (const auto& type : types) {
      INFO(model << ", held-out " << type);
      const DenseMatrix pred = X_of(out + "/" + type + "/" + model + "/seed0/predicted.h5ad");
      const DenseMatrix real = take(X, rows_of(cells, type, "stim")), ctrl = take(X, rows_of(cells, type, "control"));
      predicted_mean[type] = means(pred);
      real_mean[type] = means(real);
      const std::vector<double> mc = means(ctrl);
      std::vector<double> lfc_pred(kGenes), lfc_real(kGenes);
      for (int g = 0; g < kGenes; ++g)
        lfc_pred[g] = predicted_mean[type][g] - mc[g], lfc_real[g] = real_mean[type][g] - mc[g];
      const std::vector<int64_t> top = cg::omics::rank_genes_groups(real, ctrl).top(5);
      const nlohmann::json m = read_json(out + "/" + type + "/" + model + "/seed0/metrics.json");
      if (model == "control") {
        // No change predicted: a log-fold-change of zero has no direction to compare.
        for (const char* k : {"logfc_pearson_all", "logfc_cosine_all", "logfc_pearson_top", "logfc_cosine_top"})
          CHECK_MESSAGE(m[k].is_null(), k << " = " << m[k]);
      } else {
        check_relative(m["logfc_pearson_all"].get<double>(), pearson(lfc_pred, lfc_real), "logfc_pearson_all");
        check_relative(m["logfc_cosine_all"].get<double>(), cosine(lfc_pred, lfc_real), "logfc_cosine_all");
        check_relative(m["logfc_pearson_top"].get<double>(), pearson(pick(lfc_pred, top), pick(lfc_real, top)),
                       "logfc_pearson_top");
        check_relative(m["logfc_cosine_top"].get<double>(), cosine(pick(lfc_pred, top), pick(lfc_real, top)),
                       "logfc_cosine_top");
        CHECK(m["logfc_pearson_all"] == m["pearson_delta"]);  // the same quantity under its earlier name
      }
      // The metrics in results.jsonl are those of metrics.json, plus the type rank.
      nlohmann::json listed = row_of(results, model, type)["metrics"];
      REQUIRE(listed.contains("type_rank"));
      listed.erase("type_rank");
      CHECK(listed == m);
    }
    // The type rank: among the three predicted means, where the type's own lies by distance to
    // its real mean, as a fraction of the two others (ties half).
    for (const auto& type : types) {
      auto dist = [&](const std::string& u) {
        double s = 0;
        for (int g = 0; g < kGenes; ++g) s += std::pow(real_mean[type][g] - predicted_mean[u][g], 2);
        return std::sqrt(s);
      };
      double closer = 0;
      for (const auto& u : types)
        if (u != type) closer += dist(u) < dist(type) ? 1.0 : dist(u) == dist(type) ? 0.5 : 0.0;
      INFO(model << ", held-out " << type);
      CHECK(row_of(results, model, type)["metrics"]["type_rank"].get<double>() == closer / 2.0);
    }
  }

  // The duplicate: 8 real cells predicting the other 8, with nothing but the noise between them.
  for (const auto& type : types) {
    INFO("duplicate, held-out " << type);
    const nlohmann::json d = row_of(results, "duplicate", type)["metrics"];
    const nlohmann::json c = row_of(results, "control", type)["metrics"];
    CHECK(d["cells_predicted"] == 8);
    CHECK(d["cells_real"] == 8);
    CHECK(d["cells_control"] == 16);
    CHECK(d["r2_all"].get<double>() > 0.97);
    CHECK(d["r2_top"].get<double>() > 0.9);
    CHECK(d["logfc_cosine_all"].get<double>() > 0.97);
    CHECK(d["logfc_pearson_top"].get<double>() > 0.9);
    CHECK(d["r2_all"].get<double>() > c["r2_all"].get<double>() + 0.2);
    CHECK(d["type_rank"].get<double>() == 0.0);
    CHECK(fs::exists(out + "/" + type + "/duplicate/seed0/metrics.json"));
  }
  const std::string md = read_text(out + "/table.md"), csv = read_text(out + "/table.csv");
  CHECK(contains(md, "| **duplicate** | **mean** |"));
  CHECK(contains(md, " logFC r all | logFC cos all | logFC r top | logFC cos top |"));
  CHECK(contains(md, "Decoding (scgen): direct"));
  CHECK(contains(csv, "logfc_pearson_all,logfc_cosine_all,logfc_pearson_top,logfc_cosine_top,"));
  CHECK(contains(csv, "\nscgen,A,1,"));
  CHECK(contains(csv, ",decode\n"));
  CHECK(contains(csv, ",direct\n"));  // scgen's rows say how it decoded, the baselines' nothing
  CHECK(contains(csv, "\nduplicate,mean,"));
}

TEST_CASE(
    "predict_perturbation --decode residual: x_ctrl + Dec(z + delta) - Dec(z) for scgen, vidr and mtae; no shift "
    "gives the controls back exactly; a saved model decodes as it was trained") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad");
  const Cells cells = standard_cells();
  write_data(data, cells);
  const DenseMatrix controls = take(X_of(data), rows_of(cells, "B", "control"));
  auto predict = [&](const std::string& model_dir, const std::string& name) {
    const Result p = run(tmp, "predict --model " + model_dir + " --data " + data +
                                  " --cell-type B --device cpu --out " + tmp.file(name));
    REQUIRE_MESSAGE(p.code == 0, p.output);
    return tmp.file(name);
  };

  for (const std::string model : {"scgen", "vidr", "mtae"}) {
    INFO(model);
    const Result train =
        // MTAe's own lr 1e-4 after a 100-step warm-up barely moves the FiLM heads in 3 epochs.
        run(tmp, "train --data " + data + " --model " + model +
                     " --decode residual --epochs 3 --latent 4 --lr 0.001 --warmup-steps 0" + kCheap + " --out " +
                     tmp.file(model));
    REQUIRE_MESSAGE(train.code == 0, train.output);
    const std::string residual = tmp.file(model + "/model");
    CHECK(read_json(residual + "/config.json")["decode"] == "residual");
    const std::string direct =
        edited_model(tmp, residual, model + "_direct", [](const std::string& d) { set_decode(d, "direct"); });
    const auto no_response = model == "mtae" ? film_target_as_control : remove_latent_shift;
    const std::string still = edited_model(tmp, residual, model + "_still", no_response);
    const std::string still_direct =
        edited_model(tmp, still, model + "_still_direct", [](const std::string& d) { set_decode(d, "direct"); });

    const std::string out_residual = predict(residual, model + "_p_residual");
    CHECK(read_json(out_residual + "/metrics.json")["decode"] == "residual");
    const DenseMatrix shifted_residual = X_of(out_residual + "/predicted.h5ad");
    const DenseMatrix shifted_direct =
        X_of(predict(direct, model + "_p_direct") + "/predicted.h5ad");  // Dec(z + delta)
    const DenseMatrix still_residual = X_of(predict(still, model + "_p_still") + "/predicted.h5ad");
    const DenseMatrix reconstruction = X_of(predict(still_direct, model + "_p_still_direct") + "/predicted.h5ad");

    // Not vacuous: the autoencoder does not reconstruct the controls, and the shift changes them.
    CHECK(max_abs_difference(reconstruction, controls) > 1e-2f);
    CHECK(max_abs_difference(shifted_direct, reconstruction) > 1e-3f);
    // No shift: the controls exactly, whatever the reconstruction error.
    CHECK(max_abs_difference(still_residual, controls) == 0.0f);
    // The formula, in the app's float arithmetic (the difference first): bit for bit.
    DenseMatrix expected(controls.rows(), controls.cols());
    for (int64_t i = 0; i < controls.rows(); ++i)
      for (int64_t g = 0; g < controls.cols(); ++g)
        expected(i, g) = controls(i, g) + (shifted_direct(i, g) - reconstruction(i, g));
    CHECK(max_abs_difference(shifted_residual, expected) == 0.0f);
    CHECK(max_abs_difference(shifted_residual, shifted_direct) > 1e-3f);

    if (model == "scgen") {
      // A model folder from before --decode existed has no "decode" in its config: direct.
      const std::string old = edited_model(tmp, residual, "scgen_old", [](const std::string& d) {
        nlohmann::json c = read_json(d + "/config.json");
        c.erase("decode");
        write_json(d + "/config.json", c);
      });
      CHECK(X_of(predict(old, "scgen_p_old") + "/predicted.h5ad") == shifted_direct);
      const std::string bad =
          edited_model(tmp, residual, "scgen_bad", [](const std::string& d) { set_decode(d, "sideways"); });
      const std::string out = tmp.file("scgen_p_bad");
      check_refused(run(tmp, "predict --model " + bad + " --data " + data + " --cell-type B --device cpu --out " + out),
                    out, {"--model " + bad + ": config.json: decode: expected direct or residual, found 'sideways'"});
    }
  }
}

TEST_CASE(
    "predict_perturbation benchmark --decode: only the latent models change, the table and config say which mode; a "
    "bad mode is refused") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad");
  write_data(data, standard_cells());
  const std::string args = " --epochs 3 --latent 4";
  const Result direct = run(tmp, base_args(data, tmp.file("direct"), "A", "scgen,shift") + args);
  REQUIRE_MESSAGE(direct.code == 0, direct.output);
  const Result residual =
      run(tmp, base_args(data, tmp.file("residual"), "A", "scgen,shift") + args + " --decode residual");
  REQUIRE_MESSAGE(residual.code == 0, residual.output);
  CHECK(read_json(tmp.file("direct/config.json"))["decode"] == "direct");  // the default, stored
  CHECK(read_json(tmp.file("residual/config.json"))["decode"] == "residual");
  const std::string shift = "/A/shift/seed0/predicted.h5ad", scgen = "/A/scgen/seed0/predicted.h5ad";
  CHECK(X_of(tmp.file("direct") + shift) == X_of(tmp.file("residual") + shift));
  CHECK(max_abs_difference(X_of(tmp.file("direct") + scgen), X_of(tmp.file("residual") + scgen)) > 1e-3f);
  // The latent models were trained the same way: only the decoding differs.
  CHECK(read_text(tmp.file("direct/A/scgen/seed0/history.csv")) ==
        read_text(tmp.file("residual/A/scgen/seed0/history.csv")));
  const std::string md = read_text(tmp.file("residual/table.md"));
  CHECK(contains(md, "Decoding (scgen): residual, x_ctrl + Dec(z + delta) - Dec(z)"));
  CHECK(contains(read_text(tmp.file("direct/table.md")), "Decoding (scgen): direct, Dec(z + delta)"));
  const auto rows = read_jsonl(tmp.file("residual/results.jsonl"));
  CHECK(row_of(rows, "scgen", "A")["decode"] == "residual");
  CHECK_FALSE(row_of(rows, "shift", "A").contains("decode"));
  CHECK_FALSE(row_of(rows, "scgen", "A")["metrics"].contains("type_rank"));  // one held-out type: no rank

  const std::string out = tmp.file("bad");
  check_refused(run(tmp, base_args(data, out) + " --decode sideways"), out,
                {"--decode: expected direct or residual, found 'sideways'"});
}
