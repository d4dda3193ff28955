#pragma once
// The paired modalities of one run: loading (cells paired by obs index), labels and conditions,
// and the per-modality preprocessing whose statistics come from the training cells only.
#include <cstdint>
#include <string>
#include <vector>

#include "apps/train_multitask/config.h"
#include "omics/anndata.h"

namespace cg::multitask {

struct RawModality {
  std::string name, file;
  std::string preprocess = "none";  // none | log1p | clr | tfidf | standardize
  bool bce = false;                 // binarized data, sigmoid decoder output, BCE loss
  int64_t top_features = 0;         // 0: keep every feature
  omics::Matrix X;                  // rows in the common cell order
  omics::DataFrame var;
};

struct Dataset {
  std::vector<RawModality> modalities;
  omics::DataFrame obs;                  // the first modality's obs, in the common order
  std::vector<int32_t> labels;           // empty without --label-key
  std::vector<std::string> label_names;  // sorted class names
  omics::DenseMatrix condition;          // one-hot (cells x conditions); 0 columns without --condition-key
  std::vector<std::string> condition_names;
  int64_t cells() const { return static_cast<int64_t>(obs.rows()); }
  bool has_labels() const { return !labels.empty(); }
  // The strings splits are stratified by: the label, or "" for every cell.
  std::vector<std::string> strata() const;
};

// Reads every --modality file, pairs the cells by obs index (error listing the mismatches:
// counts and the first few names missing on each side), reads the label and condition columns
// (a class with one cell is an error naming it). Nothing is written.
Dataset load_dataset(const Config& c);

// The same cell names on both sides, or an error message ("" when they agree). Exposed for tests.
std::string describe_mismatch(const std::string& name_a, const std::vector<std::string>& a, const std::string& name_b,
                              const std::vector<std::string>& b);

struct PreparedModality {
  std::string name;
  bool bce = false;
  omics::DenseMatrix X;           // every cell, preprocessed with training statistics
  std::vector<int64_t> features;  // kept columns of the raw modality
  omics::DataFrame var;           // var rows of the kept features
};

// Applies each modality's preprocessing. Everything estimated from data (TF-IDF's idf,
// standardization means and stds, zero-variance and top-variance feature choices) is computed
// on `train_rows` only, then applied to every cell, so held-out cells never shape the inputs.
// Features constant on the training cells are dropped with a note on stderr, or are an error
// with zero_variance == "error".
std::vector<PreparedModality> prepare_modalities(const Dataset& d, const std::vector<int64_t>& train_rows,
                                                 const std::string& zero_variance, bool verbose);

}  // namespace cg::multitask
