#include "apps/analyze_encoding/study.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "apps/common/run_notes.h"
#include "nn/progress.h"
#include "omics/nearest_neighbors.h"
#include "omics/pairwise_similarity.h"

namespace cg::encoding {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json summary_json(const omics::PairHistogram::Summary& s) {
  return {{"pairs", s.pairs}, {"mean", number(s.mean)},     {"sd", number(s.sd)},
          {"q05", number(s.q05)}, {"median", number(s.median)}, {"q95", number(s.q95)}};
}

double median_of(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double finite_mean(const std::vector<double>& v) {
  double s = 0;
  int64_t n = 0;
  for (double x : v)
    if (std::isfinite(x)) {
      s += x;
      ++n;
    }
  return n ? s / double(n) : NAN;
}

}  // namespace

EncodingResult study_encoding(const EncodingEntry& entry, const CellData& d, const Config& c,
                              const std::vector<TypeDegs>& degs, const std::string& position) {
  EncodingResult r;
  r.name = entry.name;
  r.similarity = entry.similarity;
  const auto t0 = std::chrono::steady_clock::now();
  Encoded e = entry.build(d, c);
  for (const auto& n : e.notes) apps::note(n);
  nlohmann::json deg;
  if (!degs.empty() && e.gene_columns) deg = changed_degs(degs, e.features);
  const int64_t features = e.features.cols();
  std::vector<int64_t> constant;
  const omics::DenseMatrix z = omics::unit_rows(std::move(e.features), e.center, &constant);
  if (!constant.empty())
    apps::warn(entry.name + ": " + std::to_string(constant.size()) + " cells (first: '" +
               d.cells[static_cast<size_t>(constant[0])] +
               "') have the same value in every feature; their similarity to every cell is taken as 0");
  const double encode_seconds = seconds_since(t0);

  const auto t1 = std::chrono::steady_clock::now();
  omics::SimilarityOptions so;
  so.k = c.neighbors;
  so.block = c.block;
  so.same_label_neighbors = !d.batches.code.empty();
  const int64_t n = z.rows(), block = std::min<int64_t>(n, c.block), blocks = (n + block - 1) / block;
  const int64_t tiles = blocks * (blocks + 1) / 2;
  nn::Progress progress("similarity " + entry.name, static_cast<int>(tiles), position);
  omics::SimilarityMeasures m = omics::measure_similarities(z, d.labels.code, so, [&](int64_t done, int64_t) {
    const int i = static_cast<int>(done);
    if (progress.due(i, done == tiles))
      progress.report(i, "tiles of " + std::to_string(block) + " x " + std::to_string(block) + " cells");
  });
  const double similarity_seconds = seconds_since(t1);

  const auto knn = omics::knn_label_scores(m.neighbors, d.labels.code);
  nlohmann::json per_type = nlohmann::json::object();
  for (size_t t = 0; t < d.labels.names.size(); ++t) {
    double purity = 0;
    int64_t n = 0, right = 0;
    for (size_t i = 0; i < d.labels.code.size(); ++i)
      if (d.labels.code[i] == static_cast<int>(t)) {
        purity += knn.purity[i];
        right += knn.predicted[i] == static_cast<int>(t);
        ++n;
      }
    per_type[d.labels.names[t]] = {{"cells", n}, {"purity", number(n ? purity / double(n) : NAN)},
                                   {"accuracy", number(n ? double(right) / double(n) : NAN)}};
  }
  auto& j = r.metrics;
  j["similarity"] = entry.similarity;
  j["description"] = entry.description;
  j["features"] = features;
  j["within_type"] = summary_json(m.histogram.summary(true));
  j["between_type"] = summary_json(m.histogram.summary(false));
  j["auroc_same_type"] = number(m.histogram.auroc());
  j["auroc_bound"] = number(m.histogram.auroc_bound());
  j["histogram_bin_width"] = m.histogram.bin_width();
  j["knn"] = {{"k", m.neighbors.k()},
              {"purity", number(knn.mean_purity)},
              {"accuracy_leave_one_out", number(knn.accuracy)},
              {"per_type", per_type}};
  if (!d.batches.code.empty()) {
    const auto mix = omics::batch_mixing(m.same_label, d.labels.code, d.batches.code);
    nlohmann::json mt = nlohmann::json::object();
    for (size_t t = 0; t < d.labels.names.size(); ++t) {
      std::vector<double> o, x;
      for (size_t i = 0; i < d.labels.code.size(); ++i)
        if (d.labels.code[i] == static_cast<int>(t)) {
          o.push_back(mix.observed[i]);
          x.push_back(mix.expected[i]);
        }
      mt[d.labels.names[t]] = {{"observed", number(finite_mean(o))}, {"expected", number(finite_mean(x))}};
    }
    j["batch_mixing"] = {{"k", m.same_label.k()},
                         {"cells", mix.cells},
                         {"observed", number(mix.mean_observed)},
                         {"expected", number(mix.mean_expected)},
                         {"ratio", number(mix.mean_observed / mix.mean_expected)},
                         {"per_type", mt}};
  }
  j["lost"] = {{"bottom_tied_share", number(e.bottom_tied_share)},
               {"tied_genes", number(e.tied_listed)},
               {"log10_orderings", number(e.log10_orderings)},
               {"value_r2_median", number(median_of(e.value_r2))},
               {"value_r2_mean", number(finite_mean(e.value_r2))},
               {"value_recovery", e.value_recovery}};
  if (!deg.is_null()) j["degs_changed"] = deg;
  j["constant_cells"] = constant.size();
  j["seconds"] = {{"encode", encode_seconds}, {"similarity", similarity_seconds}};
  r.histogram = std::move(m.histogram);
  r.closest_other = omics::extreme_pairs(m.closest_other, c.outliers, true);
  r.farthest_same = omics::extreme_pairs(m.farthest_same, c.outliers, false);
  return r;
}

}  // namespace cg::encoding
