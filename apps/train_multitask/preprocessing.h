#pragma once
// Per-modality preprocessing in two steps. fit learns everything that depends on data (which
// features are kept, TF-IDF's idf, standardisation means and sds) from the training cells only;
// apply transforms any cells with what fit learned. A training run and `predict` both go
// through apply with the same statistics, so a saved model sees new cells exactly as it saw
// its own (bit for bit on the same machine).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "omics/anndata.h"
#include "omics/input_encoding.h"

namespace cg::multitask {

// Every --preprocess name: none, log1p, clr, tfidf, standardize, then the rank encodings
// (omics::input_encodings()).
const std::vector<std::string>& preprocess_names();

// How a modality is to be prepared, as the user asked for it (--preprocess, --distance,
// --top-features).
struct ModalitySettings {
  std::string name, file;
  std::string preprocess = "none";  // none | log1p | clr | tfidf | standardize | rank | rank-top100 | bins
  bool bce = false;                 // binarized data, sigmoid decoder output, BCE loss
  int64_t top_features = 0;         // 0: keep every feature
};

// What fit learned: everything apply needs, stored per modality in model.json.
struct ModalityPreprocessing {
  std::string name;
  std::string preprocess = "none";
  bool bce = false;
  // The features apply reads, in this order. log1p, clr and tfidf work per cell over all of its
  // features (library size, geometric mean, tf totals), so they read every feature of the
  // training file; the others read only the kept features.
  std::vector<std::string> input_features;
  std::vector<int64_t> kept;          // positions in input_features of the model's features
  std::vector<std::string> features;  // the model's features (input_features[kept]), in order
  double target_sum = 1e4;            // log1p: normalize_total's target; tfidf: the tf scale
  std::vector<double> idf;            // tfidf: per model feature, from the training cells
  std::vector<double> mean, sd;       // standardize: per model feature, training cells (ddof 1)
  // rank, rank-top100, bins (omics/input_encoding.h): what the encoding learned on the training
  // cells, over input_features (rank: each gene's nonzero median, and whether the values were
  // counts or log1p). The encoding works per cell over every feature, like log1p.
  omics::InputEncoding encoding;

  // Whether apply reads every feature of a cell (log1p, clr, tfidf, the rank encodings) or only
  // the kept ones.
  bool reads_whole_cell() const;
};

struct FittedModality {
  ModalityPreprocessing prep;
  std::vector<int64_t> input_columns;  // the training file's columns that are prep.input_features
};

// Learns a modality's preprocessing from the rows `train_rows` of `x` (all of the training
// file's features, named `var_names`). Features constant on the training cells are dropped
// with a note, or are an error with zero_variance == "error"; then the top_features most
// variable are kept (in file order).
FittedModality fit_preprocessing(const omics::CsrMatrix& x, const std::vector<std::string>& var_names,
                                 const ModalitySettings& s, const std::vector<int64_t>& train_rows,
                                 const std::string& zero_variance, bool verbose);

// The cells of `x` (whose columns are p.input_features) as the model's input: cells x
// p.features. `what` names the data in errors (a non-finite value, negative counts). Under a
// rank encoding, cells with no gene to rank become all zeros with a warning that names them by
// `cell_names` (when given).
omics::DenseMatrix apply_preprocessing(const ModalityPreprocessing& p, omics::CsrMatrix x, const std::string& what,
                                       const std::vector<std::string>& cell_names = {});

// Model outputs (cells x p.features, on the model's scale) brought back to the training file's
// scale where the preprocessing can be undone (standardize: x * sd + mean); unchanged otherwise.
omics::DenseMatrix to_file_scale(const ModalityPreprocessing& p, omics::DenseMatrix x);
// What to_file_scale's output is, for uns['scale'] of written predictions.
std::string file_scale_description(const ModalityPreprocessing& p);
// What the model's own outputs (before to_file_scale) are, for uns['scale'] of a training run.
std::string model_scale_description(const ModalityPreprocessing& p);

// A warning (apps::warn) when log1p is to be applied to values that look logarithmic already:
// not all integers and a maximum below 20. `what` names the data, `advice` says what to do.
void warn_if_already_logarithmic(const omics::Matrix& X, const std::string& what, const std::string& advice);

// The columns `cols` of `x`, in that order, still sparse.
omics::CsrMatrix csr_columns(const omics::CsrMatrix& x, const std::vector<int64_t>& cols);

// model.json's entry of one modality, and back (errors name `where` and the entry).
nlohmann::json preprocessing_to_json(const ModalityPreprocessing& p);
ModalityPreprocessing preprocessing_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace cg::multitask
