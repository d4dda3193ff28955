#include "omics/metrics_classification.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include "omics/error.h"
#include "omics/hungarian.h"
#include "omics/matrix.h"

namespace cg::omics {
namespace {

// Contingency table of two labelings with dense row/column ids.
struct Contingency {
  Eigen::MatrixXd n;  // truth classes x pred classes
  double total = 0;
};

std::vector<int64_t> dense_codes(const std::vector<int64_t>& v, int64_t& k) {
  std::map<int64_t, int64_t> id;
  for (int64_t x : v) id.emplace(x, 0);
  k = 0;
  for (auto& [x, i] : id) i = k++;
  std::vector<int64_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = id[v[i]];
  return out;
}

Contingency contingency(const std::vector<int64_t>& a, const std::vector<int64_t>& b, const char* fn) {
  if (a.size() != b.size())
    throw DataError(std::string(fn) + ": label vectors differ in length (" + std::to_string(a.size()) + " vs " +
                    std::to_string(b.size()) + ")");
  if (a.empty()) throw DataError(std::string(fn) + ": no labels");
  int64_t ka, kb;
  const auto ca = dense_codes(a, ka), cb = dense_codes(b, kb);
  Contingency c{Eigen::MatrixXd::Zero(ka, kb), double(a.size())};
  for (size_t i = 0; i < a.size(); ++i) c.n(ca[i], cb[i]) += 1.0;
  return c;
}

double entropy(const Eigen::VectorXd& counts, double total) {
  double h = 0;
  for (Eigen::Index i = 0; i < counts.size(); ++i)
    if (counts[i] > 0) h -= counts[i] / total * (std::log(counts[i]) - std::log(total));
  return h;
}

}  // namespace

LabelCodes encode_labels(const std::vector<std::string>& labels) {
  LabelCodes lc;
  lc.names = labels;
  std::sort(lc.names.begin(), lc.names.end());
  lc.names.erase(std::unique(lc.names.begin(), lc.names.end()), lc.names.end());
  lc.codes.reserve(labels.size());
  for (const auto& l : labels)
    lc.codes.push_back(std::lower_bound(lc.names.begin(), lc.names.end(), l) - lc.names.begin());
  return lc;
}

double accuracy(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred) {
  const auto c = contingency(truth, pred, "accuracy");  // validates sizes
  size_t ok = 0;
  for (size_t i = 0; i < truth.size(); ++i) ok += truth[i] == pred[i];
  return double(ok) / c.total;
}

double hungarian_accuracy(const std::vector<int64_t>& truth, const std::vector<int64_t>& clusters) {
  const auto c = contingency(clusters, truth, "hungarian_accuracy");  // clusters x labels
  const DenseMatrixD cost = -c.n;
  const auto match = hungarian_min_cost(cost);
  double ok = 0;
  for (size_t r = 0; r < match.size(); ++r)
    if (match[r] >= 0) ok += c.n(static_cast<Eigen::Index>(r), match[r]);
  return ok / c.total;
}

double macro_f1(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred) {
  contingency(truth, pred, "macro_f1");
  std::map<int64_t, std::array<double, 3>> s;  // label -> tp, fp, fn
  for (size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] == pred[i]) {
      s[truth[i]][0] += 1;
    } else {
      s[pred[i]][1] += 1;
      s[truth[i]][2] += 1;
    }
  }
  double sum = 0;
  for (const auto& [label, t] : s) {
    const double denom = 2 * t[0] + t[1] + t[2];
    sum += denom > 0 ? 2 * t[0] / denom : 0.0;
  }
  return sum / double(s.size());
}

ClassReport class_report(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred, int64_t classes) {
  if (truth.size() != pred.size())
    throw DataError("class report: label vectors differ in length (" + std::to_string(truth.size()) + " vs " +
                    std::to_string(pred.size()) + ")");
  if (classes < 1) throw DataError("class report: needs at least one class, found " + std::to_string(classes));
  const size_t k = static_cast<size_t>(classes);
  ClassReport r;
  r.confusion.assign(k, std::vector<int64_t>(k, 0));
  for (size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] < 0 || truth[i] >= classes || pred[i] < 0 || pred[i] >= classes)
      throw DataError("class report: cell " + std::to_string(i) + " has class codes " + std::to_string(truth[i]) +
                      " (truth) and " + std::to_string(pred[i]) + " (predicted); expected 0.." +
                      std::to_string(classes - 1));
    ++r.confusion[static_cast<size_t>(truth[i])][static_cast<size_t>(pred[i])];
  }
  for (size_t c = 0; c < k; ++c) {
    int64_t predicted = 0, support = 0;
    for (size_t j = 0; j < k; ++j) {
      predicted += r.confusion[j][c];
      support += r.confusion[c][j];
    }
    const double tp = static_cast<double>(r.confusion[c][c]);
    r.support.push_back(support);
    r.precision.push_back(predicted > 0 ? tp / static_cast<double>(predicted) : 0.0);
    r.recall.push_back(support > 0 ? tp / static_cast<double>(support) : 0.0);
    const double denom = static_cast<double>(predicted + support);
    r.f1.push_back(denom > 0 ? 2 * tp / denom : 0.0);
  }
  return r;
}

double adjusted_rand_index(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred) {
  const auto c = contingency(truth, pred, "adjusted_rand_index");
  const double n = c.total;
  const Eigen::VectorXd nc = c.n.rowwise().sum(), nk = c.n.colwise().sum().transpose();
  const double sum_sq = c.n.array().square().sum();
  // Pair confusion matrix over ordered pairs (sklearn.metrics.cluster.pair_confusion_matrix).
  const double fp = (c.n * nk).sum() - sum_sq;              // C[0, 1]
  const double fn = (c.n.transpose() * nc).sum() - sum_sq;  // C[1, 0]
  const double tp = sum_sq - n;
  const double tn = n * n - fp - fn - sum_sq;
  if (fn == 0 && fp == 0) return 1.0;
  return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
}

double normalized_mutual_info(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred) {
  const auto c = contingency(truth, pred, "normalized_mutual_info");
  if (c.n.rows() == 1 && c.n.cols() == 1) return 1.0;
  const double n = c.total;
  const Eigen::VectorXd pi = c.n.rowwise().sum(), pj = c.n.colwise().sum().transpose();
  double mi = 0;
  const double eps = std::numeric_limits<double>::epsilon();
  for (Eigen::Index i = 0; i < c.n.rows(); ++i)
    for (Eigen::Index j = 0; j < c.n.cols(); ++j) {
      const double nij = c.n(i, j);
      if (nij == 0) continue;
      const double term = nij / n * (std::log(nij) - std::log(n) - std::log(pi[i] * pj[j]) + 2 * std::log(n));
      if (std::abs(term) >= eps) mi += term;  // sklearn zeroes terms below machine epsilon
    }
  mi = std::max(mi, 0.0);
  if (mi == 0) return 0.0;
  return mi / (0.5 * (entropy(pi, n) + entropy(pj, n)));
}

}  // namespace cg::omics
