#pragma once
// The paired modalities of one run: loading (cells paired by obs index), labels and conditions,
// and the per-modality preprocessing whose statistics come from the training cells only.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apps/train_multitask/config.h"
#include "apps/train_multitask/preprocessing.h"
#include "omics/anndata.h"

namespace cg::multitask {

struct RawModality : ModalitySettings {
  omics::Matrix X;  // rows in the common cell order
  omics::DataFrame var;
  std::vector<std::string> controls;  // control features (control_features.h), scored apart
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

// (name, file) of each modality, in the order given.
using ModalityFiles = std::vector<std::pair<std::string, std::string>>;

// The obs tables of every file (no X), checked to hold the same cells (paired by obs index,
// unique names, at least `min_cells`); an error lists the mismatches.
std::vector<omics::AnnData> read_paired_obs(const ModalityFiles& files, size_t min_cells);
// Where each of `names` sits in `head`'s obs (every name must be there).
std::vector<int64_t> positions(const omics::AnnData& head, const std::vector<std::string>& names);
// The values of obs column `key` in the first file that has it, in the first file's cell order;
// nothing when no file has the column.
std::optional<std::vector<std::string>> find_obs_column(const std::vector<omics::AnnData>& heads,
                                                        const std::vector<std::string>& names, const std::string& key);

// The same cell names on both sides, or an error message ("" when they agree). Exposed for tests.
std::string describe_mismatch(const std::string& name_a, const std::vector<std::string>& a, const std::string& name_b,
                              const std::vector<std::string>& b);

struct PreparedModality {
  std::string name;
  bool bce = false;
  omics::DenseMatrix X;           // every cell, preprocessed with training statistics
  std::vector<int64_t> features;  // kept columns of the raw modality
  omics::DataFrame var;           // var rows of the kept features
  ModalityPreprocessing prep;     // what was learned on the training cells (saved with a model)
};

// Applies each modality's preprocessing (fit_preprocessing on `train_rows`, then
// apply_preprocessing to every cell). Everything estimated from data (TF-IDF's idf,
// standardization means and stds, zero-variance and top-variance feature choices) comes from
// `train_rows` only, so held-out cells never shape the inputs. Features constant on the
// training cells are dropped with a note, or are an error with zero_variance == "error".
std::vector<PreparedModality> prepare_modalities(const Dataset& d, const std::vector<int64_t>& train_rows,
                                                 const std::string& zero_variance, bool verbose);

}  // namespace cg::multitask
