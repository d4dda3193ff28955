#pragma once
// Classification and clustering agreement. Labels are integer codes of any values (they are
// compared for equality only); encode_labels turns string labels into codes.
#include <cstdint>
#include <string>
#include <vector>

namespace cg::omics {

struct LabelCodes {
  std::vector<int64_t> codes;      // per cell, index into names
  std::vector<std::string> names;  // sorted unique labels
};
LabelCodes encode_labels(const std::vector<std::string>& labels);

// Fraction of cells with pred == truth.
double accuracy(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred);
// Clustering accuracy: cluster ids are first mapped one-to-one onto labels so that the
// number of agreeing cells is maximal (Hungarian algorithm on the contingency table);
// clusters left without a label (more clusters than labels) count as wrong.
double hungarian_accuracy(const std::vector<int64_t>& truth, const std::vector<int64_t>& clusters);
// sklearn f1_score(average='macro'): unweighted mean of per-label F1 over the union of the
// labels in truth and pred; an undefined precision/recall counts as 0 (zero_division=0).
double macro_f1(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred);
// Per class c in [0, classes): the confusion matrix (truth x predicted counts) and sklearn's
// precision_recall_fscore_support(labels=range(classes), zero_division=0), so a class that is
// never predicted has precision 0 and a class absent from truth has recall 0. Codes outside
// [0, classes) or vectors of different lengths are an error.
struct ClassReport {
  std::vector<std::vector<int64_t>> confusion;  // [truth][predicted]
  std::vector<int64_t> support;                 // truth count per class
  std::vector<double> precision, recall, f1;
};
ClassReport class_report(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred, int64_t classes);
// sklearn adjusted_rand_score (pair-confusion form; 1.0 when the two partitions agree on
// every pair, e.g. both a single cluster).
double adjusted_rand_index(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred);
// sklearn normalized_mutual_info_score(average_method='arithmetic'): MI / mean(H(truth), H(pred))
// in nats; 1.0 when both have a single cluster, 0.0 when the MI is 0.
double normalized_mutual_info(const std::vector<int64_t>& truth, const std::vector<int64_t>& pred);

}  // namespace cg::omics
