#include "omics/metrics_regression.h"

#include <string>

#include "omics/correlation.h"
#include "omics/error.h"
#include "omics/gene_stats.h"

namespace cg::omics {
namespace {

void check_genes(const DenseMatrix& a, const DenseMatrix& b, const char* fn, const char* an, const char* bn) {
  if (a.cols() != b.cols())
    throw DataError(std::string(fn) + ": '" + an + "' has " + std::to_string(a.cols()) + " genes but '" + bn +
                    "' has " + std::to_string(b.cols()));
  if (a.cols() == 0) throw DataError(std::string(fn) + ": matrices have no genes");
  if (a.rows() == 0 || b.rows() == 0)
    throw DataError(std::string(fn) + ": '" + (a.rows() == 0 ? an : bn) + "' has no cells");
}

}  // namespace

double r2_of_means(const DenseMatrix& pred, const DenseMatrix& real) {
  check_genes(pred, real, "r2_of_means", "pred", "real");
  const double r = pearson(column_means(pred), column_means(real));
  return r * r;
}

double r2_of_means(const DenseMatrix& pred, const DenseMatrix& real, const std::vector<int64_t>& genes) {
  check_genes(pred, real, "r2_of_means", "pred", "real");
  const auto mp = column_means(pred), mr = column_means(real);
  std::vector<double> a, b;
  for (int64_t g : genes) {
    if (g < 0 || g >= pred.cols())
      throw DataError("r2_of_means: gene index " + std::to_string(g) + " outside [0, " + std::to_string(pred.cols()) +
                      ")");
    a.push_back(mp[g]);
    b.push_back(mr[g]);
  }
  const double r = pearson(a, b);
  return r * r;
}

std::vector<double> r2_score_per_feature(const DenseMatrix& y_true, const DenseMatrix& y_pred) {
  check_genes(y_true, y_pred, "r2_score", "y_true", "y_pred");
  if (y_true.rows() != y_pred.rows())
    throw DataError("r2_score: y_true has " + std::to_string(y_true.rows()) + " rows but y_pred has " +
                    std::to_string(y_pred.rows()));
  const auto mean = column_means(y_true);
  std::vector<double> out(static_cast<size_t>(y_true.cols()));
  for (Eigen::Index c = 0; c < y_true.cols(); ++c) {
    double num = 0, den = 0;
    for (Eigen::Index r = 0; r < y_true.rows(); ++r) {
      const double e = double(y_true(r, c)) - double(y_pred(r, c));
      const double d = double(y_true(r, c)) - mean[c];
      num += e * e, den += d * d;
    }
    if (den != 0) out[c] = num != 0 ? 1.0 - num / den : 1.0;
    else out[c] = num == 0 ? 1.0 : 0.0;
  }
  return out;
}

double r2_score(const DenseMatrix& y_true, const DenseMatrix& y_pred) {
  const auto s = r2_score_per_feature(y_true, y_pred);
  double sum = 0;
  for (double v : s) sum += v;
  return sum / double(s.size());
}

double pearson_of_deltas(const DenseMatrix& pred, const DenseMatrix& real, const DenseMatrix& ctrl) {
  check_genes(pred, real, "pearson_of_deltas", "pred", "real");
  check_genes(pred, ctrl, "pearson_of_deltas", "pred", "ctrl");
  const auto mp = column_means(pred), mr = column_means(real), mc = column_means(ctrl);
  std::vector<double> dp(mp.size()), dr(mp.size());
  for (size_t g = 0; g < mp.size(); ++g) dp[g] = mp[g] - mc[g], dr[g] = mr[g] - mc[g];
  return pearson(dp, dr);
}

}  // namespace cg::omics
