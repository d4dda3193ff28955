#pragma once
// Feature-attribution tables: ranking features per output, and writing the result as CSV and
// as .h5ad. Plain Eigen and strings (no autograd): nn/attribution.h computes the scores, apps
// wire the two together. A score matrix is [outputs, features] (e.g. proteins x genes), higher
// meaning more relevant (mean |attribution| over cells).
//
// .h5ad layout (the AnnData struct has no varm, so the table is its own AnnData):
//   X                  [outputs, features] float32: the score (mean |attribution|)
//   layers/signed_mean [outputs, features]: mean signed attribution (when given)
//   layers/rank        [outputs, features]: each feature's 1-based rank within its output
//   obs                index = output names; column top_feature (rank 1)
//   var                index = feature names
//   uns                attribution/method and whatever the caller adds (steps, baseline, ...)
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "omics/anndata.h"
#include "omics/matrix.h"

namespace cg::omics {

struct RankedFeature {
  std::string output;
  int64_t output_index = 0;
  int64_t rank = 0;  // 1 = most relevant
  std::string feature;
  int64_t feature_index = 0;
  double score = 0;
  double signed_score = 0;  // 0 when no signed matrix was given
};

// Per output (in output order), its top k features by descending score; ties go to the lower
// feature index. k <= 0 or k > features: all of them. DataError on mismatched name counts or a
// non-finite score. `signed_scores` may be empty, else the same shape as `scores`.
std::vector<RankedFeature> top_features(const DenseMatrixD& scores, const std::vector<std::string>& feature_names,
                                        const std::vector<std::string>& output_names, int64_t k,
                                        const DenseMatrixD& signed_scores = {});

// The 1-based rank of a feature within an output, with the ordering of top_features.
int64_t rank_of(const DenseMatrixD& scores, int64_t output, int64_t feature);
// By name; DataError naming the missing output or feature.
int64_t rank_of(const DenseMatrixD& scores, const std::vector<std::string>& feature_names,
                const std::vector<std::string>& output_names, const std::string& feature, const std::string& output);
// Every feature's rank within each output, [outputs, features].
DenseMatrixD rank_matrix(const DenseMatrixD& scores);

// CSV with header output,rank,feature,score,signed_score (RFC 4180 quoting where needed),
// written atomically.
void write_attribution_csv(const std::string& path, const std::vector<RankedFeature>& rows);

struct AttributionTable {
  DenseMatrixD scores;       // [outputs, features]
  DenseMatrixD signed_mean;  // empty, or the same shape
  std::vector<std::string> feature_names, output_names;
  std::string method;                   // stored as uns "attribution/method"
  std::map<std::string, UnsValue> uns;  // extra metadata, stored under "attribution/"
};
AnnData attribution_anndata(const AttributionTable& t);
void write_attribution_h5ad(const std::string& path, const AttributionTable& t);

}  // namespace cg::omics
