#include "apps/train_multitask/evaluate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "apps/common/matrix_bridge.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "omics/hungarian.h"
#include "omics/metrics.h"
#include "omics/metrics_per_cell.h"
#include "omics/ranking_metrics.h"

namespace cg::multitask {
namespace {

double mean_feature_pearson(const omics::DenseMatrix& truth, const omics::DenseMatrix& pred) {
  double s = 0;
  int64_t n = 0;
  for (int64_t j = 0; j < truth.cols(); ++j) {
    std::vector<double> a(truth.rows()), b(truth.rows());
    for (int64_t i = 0; i < truth.rows(); ++i) {
      a[i] = truth(i, j);
      b[i] = pred(i, j);
    }
    const double r = omics::pearson(a, b);
    if (std::isfinite(r)) {
      s += r;
      ++n;
    }
  }
  return n ? s / static_cast<double>(n) : NAN;
}

omics::DenseMatrix take_columns(const omics::DenseMatrix& x, const std::vector<int64_t>& cols) {
  omics::DenseMatrix out(x.rows(), static_cast<int64_t>(cols.size()));
  for (size_t k = 0; k < cols.size(); ++k) out.col(static_cast<int64_t>(k)) = x.col(cols[k]);
  return out;
}

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

// Clusters renamed to the labels they match best (Hungarian on the contingency table), so that
// accuracy and macro F1 compare like with like; unmatched clusters get label -1.
std::vector<int64_t> match_clusters(const std::vector<int64_t>& truth, const std::vector<int64_t>& clusters,
                                    int64_t k) {
  int64_t labels = 0;
  for (int64_t t : truth) labels = std::max(labels, t + 1);
  omics::DenseMatrixD cost = omics::DenseMatrixD::Zero(k, labels);
  for (size_t i = 0; i < truth.size(); ++i) cost(clusters[i], truth[i]) -= 1;
  const auto assign = omics::hungarian_min_cost(cost);
  std::vector<int64_t> out(clusters.size());
  for (size_t i = 0; i < clusters.size(); ++i) out[i] = assign[static_cast<size_t>(clusters[i])];
  return out;
}

}  // namespace

ClassOutputs classify_latents(TranslationModel& model, const Tensor& latent) {
  NoGradGuard no_grad;
  const Tensor logits = model.classify_fused(latent);
  ClassOutputs out;
  for (int32_t c : max_rows(logits).indices.to_vector<int32_t>()) out.predicted.push_back(c);
  out.probabilities = apps::to_matrix(softmax_rows(logits));
  return out;
}

nlohmann::json translation_metrics(const omics::DenseMatrix& truth, const omics::DenseMatrix& predicted, bool bce,
                                   const std::vector<std::string>& feature_names, const std::vector<bool>& control) {
  std::vector<int64_t> scored, controls;
  for (int64_t j = 0; j < truth.cols(); ++j)
    (!control.empty() && control[static_cast<size_t>(j)] ? controls : scored).push_back(j);
  const bool all = controls.empty();
  const omics::DenseMatrix t = all ? truth : take_columns(truth, scored);
  const omics::DenseMatrix p = all ? predicted : take_columns(predicted, scored);
  nlohmann::json m;
  m["r2"] = number(omics::r2_score(t, p));
  m["pearson"] = number(mean_feature_pearson(t, p));
  m["r2_per_cell"] = number(omics::mean_row_r2(t, p));
  m["pearson_per_cell"] = number(omics::mean_row_pearson(t, p));
  if (bce) {
    const omics::RankingMeans cells = omics::mean_ranking_per_row(t, p);
    const omics::RankingMeans peaks = omics::mean_ranking_per_column(t, p);
    m["auroc_per_cell"] = number(cells.auroc);
    m["auprc_per_cell"] = number(cells.auprc);
    m["auroc_per_peak"] = number(peaks.auroc);
    m["auprc_per_peak"] = number(peaks.auprc);
  }
  if (!all) {
    nlohmann::json names = nlohmann::json::array();
    for (int64_t j : controls) names.push_back(feature_names[static_cast<size_t>(j)]);
    m["control_features"] = names;
    const omics::DenseMatrix tc = take_columns(truth, controls), pc = take_columns(predicted, controls);
    m["controls"] = {{"r2", number(omics::r2_score(tc, pc))}, {"pearson", number(mean_feature_pearson(tc, pc))}};
  }
  if (truth.cols() <= 200) {
    const auto per = omics::r2_score_per_feature(truth, predicted);
    nlohmann::json pf = nlohmann::json::object();
    for (size_t f = 0; f < per.size(); ++f) pf[feature_names[f]] = number(per[f]);
    m["r2_per_feature"] = pf;
  }
  return m;
}

double mean_auroc_per_cell(const omics::DenseMatrix& truth, const omics::DenseMatrix& scores) {
  return omics::mean_ranking_per_row(truth, scores).auroc;
}

std::vector<int64_t> kmeans(const omics::DenseMatrix& xf, int k, uint64_t seed, int starts, int iterations) {
  const Eigen::MatrixXd x = xf.cast<double>();
  const int64_t n = x.rows();
  k = static_cast<int>(std::min<int64_t>(k, n));
  std::mt19937_64 rng(seed);
  std::vector<int64_t> best;
  double best_inertia = std::numeric_limits<double>::infinity();
  for (int s = 0; s < starts; ++s) {
    Eigen::MatrixXd centers(k, x.cols());
    centers.row(0) = x.row(static_cast<int64_t>(rng() % n));
    Eigen::VectorXd d2 = (x.rowwise() - centers.row(0)).rowwise().squaredNorm();
    for (int c = 1; c < k; ++c) {
      std::discrete_distribution<int64_t> pick(d2.data(), d2.data() + n);
      const int64_t i = d2.sum() > 0 ? pick(rng) : static_cast<int64_t>(rng() % n);
      centers.row(c) = x.row(i);
      d2 = d2.cwiseMin((x.rowwise() - centers.row(c)).rowwise().squaredNorm());
    }
    std::vector<int64_t> assign(n, -1);
    double inertia = 0;
    for (int it = 0; it < iterations; ++it) {
      bool changed = false;
      inertia = 0;
      for (int64_t i = 0; i < n; ++i) {
        Eigen::Index c;
        inertia += (centers.rowwise() - x.row(i)).rowwise().squaredNorm().minCoeff(&c);
        if (assign[i] != c) {
          assign[i] = c;
          changed = true;
        }
      }
      if (!changed) break;
      Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(k, x.cols());
      Eigen::VectorXd cnt = Eigen::VectorXd::Zero(k);
      for (int64_t i = 0; i < n; ++i) {
        sum.row(assign[i]) += x.row(i);
        cnt[assign[i]] += 1;
      }
      for (int c = 0; c < k; ++c)
        if (cnt[c] > 0) centers.row(c) = sum.row(c) / cnt[c];
    }
    if (inertia < best_inertia) {
      best_inertia = inertia;
      best = assign;
    }
  }
  return best;
}

Evaluation evaluate_model(TranslationModel& model, const TrainData& d, const std::vector<std::string>& names,
                          const std::vector<std::vector<std::string>>& feature_names, const Split& split,
                          bool classifier_trained, Device device, uint64_t seed,
                          const std::vector<std::vector<bool>>& controls) {
  NoGradGuard no_grad;
  model.eval();
  Evaluation ev;
  const size_t M = d.X.size();
  const int64_t N = d.X[0].rows(), chunk = 1024;
  const bool has_latent = model.latent_width() > 0;
  ev.latent = omics::DenseMatrix(N, model.latent_width());
  if (classifier_trained) {
    ev.classes.predicted.assign(static_cast<size_t>(N), -1);
    ev.classes.probabilities = omics::DenseMatrix(N, model.spec().classes);
  }
  // Test row r is row test_index[r] of each direction's predictions.
  std::vector<int64_t> test_index(static_cast<size_t>(N), -1);
  for (size_t t = 0; t < split.test.size(); ++t)
    test_index[static_cast<size_t>(split.test[t])] = static_cast<int64_t>(t);
  for (size_t j = 0; j < M; ++j)
    for (size_t i = 0; i < M; ++i)
      if (i != j)
        ev.directions.push_back({j, i, names[j] + "_to_" + names[i],
                                 omics::DenseMatrix(static_cast<int64_t>(split.test.size()), d.X[i].cols())});
  // Every cell in chunks: latents, classes, and translations decoded for every cell of a chunk
  // and kept for the test cells. Decoding whole chunks costs more than decoding the test cells
  // alone, but these are the batches `predict` forms from the same file, and BLAS results
  // depend on a product's shape: so predict on a run's own cells reproduces it bit for bit.
  for (int64_t s = 0; s < N; s += chunk) {
    const int64_t n = std::min(chunk, N - s);
    std::vector<Tensor> x;
    for (size_t m = 0; m < M; ++m) x.push_back(apps::to_tensor(d.X[m].middleRows(s, n), device));
    Tensor fused;
    if (has_latent) {
      std::vector<Tensor> z;
      for (size_t m = 0; m < M; ++m) z.push_back(model.encode_one(m, x[m]));
      fused = model.fuse(z);
      ev.latent.middleRows(s, n) = apps::to_matrix(fused);
    }
    if (classifier_trained) {
      const ClassOutputs c = classify_latents(model, fused);
      std::copy(c.predicted.begin(), c.predicted.end(), ev.classes.predicted.begin() + s);
      ev.classes.probabilities.middleRows(s, n) = c.probabilities;
    }
    bool has_test = false;
    for (int64_t r = s; r < s + n; ++r) has_test = has_test || test_index[static_cast<size_t>(r)] >= 0;
    if (!has_test) continue;
    const Tensor cond = d.condition.cols() > 0 ? apps::to_tensor(d.condition.middleRows(s, n), device) : Tensor();
    for (auto& dir : ev.directions) {
      omics::DenseMatrix p = apps::to_matrix(model.translate(dir.source, dir.target, x[dir.source], cond));
      // Count likelihoods predict mean counts; the metrics compare on the model scale (the
      // preprocessed values the baselines predict), so the counts go through the same apply step.
      if (model.spec().output(dir.target).counts) p = counts_to_model_scale(d.prep.at(dir.target), p);
      for (int64_t r = s; r < s + n; ++r)
        if (test_index[static_cast<size_t>(r)] >= 0)
          dir.predicted.row(test_index[static_cast<size_t>(r)]) = p.row(r - s);
    }
  }
  nlohmann::json dirs = nlohmann::json::object();
  for (const auto& dir : ev.directions)
    dirs[dir.name] =
        translation_metrics(apps::take_rows(d.X[dir.target], split.test), dir.predicted, d.bce[dir.target],
                            feature_names[dir.target], controls.empty() ? std::vector<bool>{} : controls[dir.target]);
  ev.metrics["translation"] = dirs;
  ev.metrics["test_cells"] = split.test.size();
  ev.metrics["train_cells"] = split.train.size();
  ev.metrics["validation_cells"] = split.validation.size();
  if (!d.labels.empty() && (classifier_trained || has_latent)) {
    std::vector<int64_t> truth;
    for (int64_t r : split.test) truth.push_back(d.labels[static_cast<size_t>(r)]);
    std::vector<int64_t> pred;
    nlohmann::json cm;
    if (classifier_trained) {
      for (int64_t r : split.test) pred.push_back(ev.classes.predicted[static_cast<size_t>(r)]);
      cm["method"] = "classifier";
      cm["accuracy"] = number(omics::accuracy(truth, pred));
    } else {
      const auto clusters = kmeans(apps::take_rows(ev.latent, split.test), static_cast<int>(d.classes), seed);
      cm["method"] = "kmeans_hungarian";
      cm["accuracy"] = number(omics::hungarian_accuracy(truth, clusters));
      const auto matched = match_clusters(truth, clusters, static_cast<int64_t>(d.classes));
      cm["ari"] = number(omics::adjusted_rand_index(truth, clusters));
      cm["nmi"] = number(omics::normalized_mutual_info(truth, clusters));
      pred = matched;
    }
    cm["macro_f1"] = number(omics::macro_f1(truth, pred));
    if (!cm.contains("ari")) {
      cm["ari"] = number(omics::adjusted_rand_index(truth, pred));
      cm["nmi"] = number(omics::normalized_mutual_info(truth, pred));
    }
    ev.metrics["classification"] = cm;
    ev.test_predicted = pred;
  }
  return ev;
}

}  // namespace cg::multitask
