#include "apps/train_multitask/evaluate.h"

#include <cmath>
#include <limits>
#include <random>

#include "apps/common/matrix_bridge.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "omics/hungarian.h"
#include "omics/metrics.h"

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

double mean_auroc_per_cell(const omics::DenseMatrix& truth, const omics::DenseMatrix& scores) {
  double s = 0;
  int64_t n = 0;
  for (int64_t i = 0; i < truth.rows(); ++i) {
    std::vector<double> v(scores.cols());
    int64_t pos = 0;
    for (int64_t j = 0; j < scores.cols(); ++j) {
      v[j] = scores(i, j);
      pos += truth(i, j) > 0.5;
    }
    const int64_t neg = truth.cols() - pos;
    if (pos == 0 || neg == 0) continue;
    const auto ranks = omics::average_ranks(v);
    double rank_sum = 0;
    for (int64_t j = 0; j < truth.cols(); ++j)
      if (truth(i, j) > 0.5) rank_sum += ranks[j];
    // Mann-Whitney U of the positives over the negatives, normalized.
    s +=
        (rank_sum - static_cast<double>(pos) * (pos + 1) / 2.0) / (static_cast<double>(pos) * static_cast<double>(neg));
    ++n;
  }
  return n ? s / static_cast<double>(n) : NAN;
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

Evaluation evaluate_model(UnitedNetModel& model, const TrainData& d, const std::vector<std::string>& names,
                          const std::vector<std::vector<std::string>>& feature_names, const Split& split,
                          bool classifier_trained, Device device, uint64_t seed) {
  NoGradGuard no_grad;
  model.eval();
  Evaluation ev;
  const size_t M = d.X.size();
  const int64_t N = d.X[0].rows(), chunk = 1024;
  ev.latent = omics::DenseMatrix(N, model.spec().latent);
  std::vector<int64_t> classes(static_cast<size_t>(N), -1);
  // Latents of every cell, in chunks (the test cells' translations come from the same pass).
  std::vector<omics::DenseMatrix> z_all(M, omics::DenseMatrix(N, model.spec().latent));
  for (int64_t s = 0; s < N; s += chunk) {
    const int64_t n = std::min(chunk, N - s);
    std::vector<Tensor> x;
    for (size_t m = 0; m < M; ++m) x.push_back(apps::to_tensor(d.X[m].middleRows(s, n), device));
    auto enc = model.encode(x);
    for (size_t m = 0; m < M; ++m) z_all[m].middleRows(s, n) = apps::to_matrix(enc.z[m]);
    Tensor fused = model.fuse(enc.z);
    ev.latent.middleRows(s, n) = apps::to_matrix(fused);
    if (classifier_trained) {
      const auto idx = max_rows(model.classify(model.project(fused))).indices.to_vector<int32_t>();
      for (int64_t i = 0; i < n; ++i) classes[static_cast<size_t>(s + i)] = idx[static_cast<size_t>(i)];
    }
  }
  const Tensor cond =
      d.condition.cols() > 0 ? apps::to_tensor(apps::take_rows(d.condition, split.test), device) : Tensor();
  nlohmann::json dirs = nlohmann::json::object();
  for (size_t j = 0; j < M; ++j)
    for (size_t i = 0; i < M; ++i) {
      if (i == j) continue;
      Direction dir{j, i, names[j] + "_to_" + names[i], {}};
      const Tensor z = apps::to_tensor(apps::take_rows(z_all[j], split.test), device);
      dir.predicted = apps::to_matrix(model.predict(i, z, cond));
      const omics::DenseMatrix truth = apps::take_rows(d.X[i], split.test);
      nlohmann::json m;
      m["r2"] = number(omics::r2_score(truth, dir.predicted));
      m["pearson"] = number(mean_feature_pearson(truth, dir.predicted));
      if (d.bce[i]) m["auroc_per_cell"] = number(mean_auroc_per_cell(truth, dir.predicted));
      if (truth.cols() <= 200) {
        const auto per = omics::r2_score_per_feature(truth, dir.predicted);
        nlohmann::json pf = nlohmann::json::object();
        for (size_t f = 0; f < per.size(); ++f) pf[feature_names[i][f]] = number(per[f]);
        m["r2_per_feature"] = pf;
      }
      dirs[dir.name] = m;
      ev.directions.push_back(std::move(dir));
    }
  ev.metrics["translation"] = dirs;
  ev.metrics["test_cells"] = split.test.size();
  ev.metrics["train_cells"] = split.train.size();
  ev.metrics["validation_cells"] = split.validation.size();
  if (!d.labels.empty()) {
    std::vector<int64_t> truth;
    for (int64_t r : split.test) truth.push_back(d.labels[static_cast<size_t>(r)]);
    std::vector<int64_t> pred;
    nlohmann::json cm;
    if (classifier_trained) {
      for (int64_t r : split.test) pred.push_back(classes[static_cast<size_t>(r)]);
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
