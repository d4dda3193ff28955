#include "omics/ranking_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "omics/error.h"

namespace cg::omics {
namespace {

void check_shapes(const DenseMatrix& truth, const DenseMatrix& scores, const char* fn) {
  if (truth.rows() != scores.rows() || truth.cols() != scores.cols())
    throw DataError(std::string(fn) + ": truth is " + std::to_string(truth.rows()) + " x " +
                    std::to_string(truth.cols()) + " but scores are " + std::to_string(scores.rows()) + " x " +
                    std::to_string(scores.cols()));
}

// Sorts (score, positive) pairs by descending score and walks the distinct thresholds.
RankingScores score_pairs(std::vector<std::pair<double, bool>>& v) {
  int64_t pos = 0;
  for (const auto& p : v) pos += p.second;
  const int64_t neg = static_cast<int64_t>(v.size()) - pos;
  if (pos == 0 || neg == 0) return {NAN, NAN};
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  double area = 0, ap = 0;
  int64_t tp = 0, fp = 0;
  for (size_t i = 0; i < v.size();) {
    int64_t tp_g = 0, fp_g = 0;
    size_t j = i;
    for (; j < v.size() && v[j].first == v[i].first; ++j) (v[j].second ? tp_g : fp_g) += 1;
    // ROC: a tied group is a diagonal step (trapezoid), i.e. ties count one half.
    area += static_cast<double>(fp_g) * (static_cast<double>(tp) + 0.5 * static_cast<double>(tp_g));
    tp += tp_g;
    fp += fp_g;
    // AP: precision at this threshold times the recall it adds.
    ap += static_cast<double>(tp_g) / static_cast<double>(pos) * static_cast<double>(tp) / static_cast<double>(tp + fp);
    i = j;
  }
  return {area / (static_cast<double>(pos) * static_cast<double>(neg)), ap};
}

RankingMeans finish(const std::vector<RankingScores>& s) {
  RankingMeans m;
  for (const auto& x : s)
    if (std::isfinite(x.auroc)) {
      m.auroc += x.auroc;
      m.auprc += x.auprc;
      ++m.counted;
    }
  if (m.counted == 0) return {NAN, NAN, 0};
  m.auroc /= static_cast<double>(m.counted);
  m.auprc /= static_cast<double>(m.counted);
  return m;
}

}  // namespace

RankingScores ranking_scores(const std::vector<double>& truth, const std::vector<double>& scores) {
  if (truth.size() != scores.size())
    throw DataError("ranking_scores: " + std::to_string(truth.size()) + " truth values but " +
                    std::to_string(scores.size()) + " scores");
  std::vector<std::pair<double, bool>> v(truth.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = {scores[i], truth[i] > 0.5};
  return score_pairs(v);
}

RankingMeans mean_ranking_per_row(const DenseMatrix& truth, const DenseMatrix& scores) {
  check_shapes(truth, scores, "mean_ranking_per_row");
  std::vector<RankingScores> s(static_cast<size_t>(truth.rows()));
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t i = 0; i < truth.rows(); ++i) {
    std::vector<std::pair<double, bool>> v(static_cast<size_t>(truth.cols()));
    for (int64_t j = 0; j < truth.cols(); ++j) v[static_cast<size_t>(j)] = {scores(i, j), truth(i, j) > 0.5f};
    s[static_cast<size_t>(i)] = score_pairs(v);
  }
  return finish(s);
}

RankingMeans mean_ranking_per_column(const DenseMatrix& truth, const DenseMatrix& scores) {
  check_shapes(truth, scores, "mean_ranking_per_column");
  std::vector<RankingScores> s(static_cast<size_t>(truth.cols()));
#pragma omp parallel for schedule(dynamic, 64)
  for (int64_t j = 0; j < truth.cols(); ++j) {
    std::vector<std::pair<double, bool>> v(static_cast<size_t>(truth.rows()));
    for (int64_t i = 0; i < truth.rows(); ++i) v[static_cast<size_t>(i)] = {scores(i, j), truth(i, j) > 0.5f};
    s[static_cast<size_t>(j)] = score_pairs(v);
  }
  return finish(s);
}

}  // namespace cg::omics
