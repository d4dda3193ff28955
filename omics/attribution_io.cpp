#include "omics/attribution_io.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>

#include "base/atomic_write.h"
#include "base/text.h"
#include "omics/error.h"

namespace cg::omics {

namespace {

void check_scores(const char* fn, const DenseMatrixD& scores, const std::vector<std::string>* features,
                  const std::vector<std::string>* outputs) {
  if (features && static_cast<int64_t>(features->size()) != scores.cols())
    throw DataError(std::string(fn) + ": " + std::to_string(features->size()) +
                    " feature names for a score matrix with " + std::to_string(scores.cols()) + " features (columns)");
  if (outputs && static_cast<int64_t>(outputs->size()) != scores.rows())
    throw DataError(std::string(fn) + ": " + std::to_string(outputs->size()) +
                    " output names for a score matrix with " + std::to_string(scores.rows()) + " outputs (rows)");
  for (int64_t o = 0; o < scores.rows(); ++o)
    for (int64_t i = 0; i < scores.cols(); ++i)
      if (!std::isfinite(scores(o, i))) {
        std::ostringstream os;
        os << fn << ": score of output " << (outputs ? (*outputs)[o] : std::to_string(o)) << ", feature "
           << (features ? (*features)[i] : std::to_string(i)) << " is " << scores(o, i) << "; expected a finite number";
        throw DataError(os.str());
      }
}

// Feature indices of output o, most relevant first (ties: lower index first).
std::vector<int64_t> order_of(const DenseMatrixD& scores, int64_t o) {
  std::vector<int64_t> idx(scores.cols());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return scores(o, a) > scores(o, b); });
  return idx;
}

int64_t find_name(const char* fn, const std::vector<std::string>& names, const std::string& name, const char* what) {
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) throw DataError(std::string(fn) + ": no " + what + " named '" + name + "'");
  return it - names.begin();
}

}  // namespace

std::vector<RankedFeature> top_features(const DenseMatrixD& scores, const std::vector<std::string>& feature_names,
                                        const std::vector<std::string>& output_names, int64_t k,
                                        const DenseMatrixD& signed_scores) {
  check_scores("top_features", scores, &feature_names, &output_names);
  const bool has_signed = signed_scores.size() > 0;
  if (has_signed && (signed_scores.rows() != scores.rows() || signed_scores.cols() != scores.cols()))
    throw DataError("top_features: signed scores are " + std::to_string(signed_scores.rows()) + " x " +
                    std::to_string(signed_scores.cols()) + ", scores are " + std::to_string(scores.rows()) + " x " +
                    std::to_string(scores.cols()));
  const int64_t keep = (k <= 0 || k > scores.cols()) ? scores.cols() : k;
  std::vector<RankedFeature> out;
  out.reserve(scores.rows() * keep);
  for (int64_t o = 0; o < scores.rows(); ++o) {
    const std::vector<int64_t> order = order_of(scores, o);
    for (int64_t r = 0; r < keep; ++r) {
      const int64_t i = order[r];
      out.push_back(
          {output_names[o], o, r + 1, feature_names[i], i, scores(o, i), has_signed ? signed_scores(o, i) : 0.0});
    }
  }
  return out;
}

int64_t rank_of(const DenseMatrixD& scores, int64_t output, int64_t feature) {
  if (output < 0 || output >= scores.rows() || feature < 0 || feature >= scores.cols())
    throw DataError("rank_of: (output " + std::to_string(output) + ", feature " + std::to_string(feature) +
                    ") is outside the " + std::to_string(scores.rows()) + " x " + std::to_string(scores.cols()) +
                    " score matrix");
  const double s = scores(output, feature);
  if (!std::isfinite(s)) throw DataError("rank_of: the score is not finite");
  int64_t rank = 1;
  for (int64_t j = 0; j < scores.cols(); ++j)
    if (scores(output, j) > s || (scores(output, j) == s && j < feature)) ++rank;
  return rank;
}

int64_t rank_of(const DenseMatrixD& scores, const std::vector<std::string>& feature_names,
                const std::vector<std::string>& output_names, const std::string& feature, const std::string& output) {
  if (static_cast<int64_t>(feature_names.size()) != scores.cols() ||
      static_cast<int64_t>(output_names.size()) != scores.rows())
    throw DataError("rank_of: " + std::to_string(output_names.size()) + " output and " +
                    std::to_string(feature_names.size()) + " feature names for a " + std::to_string(scores.rows()) +
                    " x " + std::to_string(scores.cols()) + " score matrix");
  return rank_of(scores, find_name("rank_of", output_names, output, "output"),
                 find_name("rank_of", feature_names, feature, "feature"));
}

DenseMatrixD rank_matrix(const DenseMatrixD& scores) {
  check_scores("rank_matrix", scores, nullptr, nullptr);
  DenseMatrixD ranks(scores.rows(), scores.cols());
  for (int64_t o = 0; o < scores.rows(); ++o) {
    const std::vector<int64_t> order = order_of(scores, o);
    for (size_t r = 0; r < order.size(); ++r) ranks(o, order[r]) = static_cast<double>(r + 1);
  }
  return ranks;
}

void write_attribution_csv(const std::string& path, const std::vector<RankedFeature>& rows) {
  write_atomically<DataError>(path, path + ": ", [&](const std::string& tmp) {
    std::ofstream os(tmp);
    if (!os) throw DataError(path + ": cannot open for writing");
    os.precision(17);
    os << "output,rank,feature,score,signed_score\n";
    for (const RankedFeature& r : rows)
      os << csv_field(r.output) << ',' << r.rank << ',' << csv_field(r.feature) << ',' << r.score << ','
         << r.signed_score << '\n';
    os.close();  // flushes: a full disk shows here, before the rename
    if (!os) throw DataError(path + ": write failed");
  });
}

AnnData attribution_anndata(const AttributionTable& t) {
  check_scores("attribution_anndata", t.scores, &t.feature_names, &t.output_names);
  AnnData a;
  a.X = Matrix::from(DenseMatrix(t.scores.cast<float>()));
  if (t.signed_mean.size() > 0) {
    if (t.signed_mean.rows() != t.scores.rows() || t.signed_mean.cols() != t.scores.cols())
      throw DataError("attribution_anndata: signed_mean does not have the shape of scores");
    a.layers["signed_mean"] = Matrix::from(DenseMatrix(t.signed_mean.cast<float>()));
  }
  const DenseMatrixD ranks = rank_matrix(t.scores);
  a.layers["rank"] = Matrix::from(DenseMatrix(ranks.cast<float>()));
  a.obs.index = t.output_names;
  a.var.index = t.feature_names;
  std::vector<std::string> top(t.output_names.size());
  for (int64_t o = 0; o < t.scores.rows(); ++o)
    if (t.scores.cols() > 0) top[o] = t.feature_names[order_of(t.scores, o).front()];
  a.obs.set("top_feature", Column::text(top));
  a.uns["attribution/method"] = UnsValue::text(t.method);
  for (const auto& [key, v] : t.uns) a.uns["attribution/" + key] = v;
  a.validate();
  return a;
}

void write_attribution_h5ad(const std::string& path, const AttributionTable& t) {
  write_h5ad(path, attribution_anndata(t));
}

}  // namespace cg::omics
