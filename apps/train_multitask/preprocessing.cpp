#include "apps/train_multitask/preprocessing.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <unordered_map>

#include "apps/common/run_notes.h"
#include "autograd/error.h"
#include "base/text.h"
#include "omics/preprocess.h"

namespace cg::multitask {
namespace {

[[noreturn]] void fail(const std::string& m) { throw Error(m); }

std::string number(double v) {
  std::ostringstream os;
  os.precision(4);
  os << v;
  return os.str();
}

// The rows `rows` of `x`, in that order.
omics::CsrMatrix csr_rows(const omics::CsrMatrix& x, const std::vector<int64_t>& rows) {
  omics::CsrMatrix out;
  out.rows = static_cast<int64_t>(rows.size());
  out.cols = x.cols;
  for (int64_t r : rows) {
    for (int64_t k = x.indptr[r]; k < x.indptr[r + 1]; ++k) {
      out.data.push_back(x.data[k]);
      out.indices.push_back(x.indices[k]);
    }
    out.indptr.push_back(out.nnz());
  }
  return out;
}

// Rows and columns of a CSR matrix restricted to `cols` (in that order), densified.
omics::DenseMatrix dense_columns(const omics::CsrMatrix& x, const std::vector<int64_t>& cols) {
  std::vector<int64_t> where(static_cast<size_t>(x.cols), -1);
  for (size_t j = 0; j < cols.size(); ++j) where[static_cast<size_t>(cols[j])] = static_cast<int64_t>(j);
  omics::DenseMatrix out = omics::DenseMatrix::Zero(x.rows, static_cast<int64_t>(cols.size()));
  for (int64_t r = 0; r < x.rows; ++r)
    for (int64_t k = x.indptr[r]; k < x.indptr[r + 1]; ++k) {
      const int64_t j = where[static_cast<size_t>(x.indices[k])];
      if (j >= 0) out(r, j) = x.data[k];
    }
  return out;
}

bool is_cell_wide(const std::string& preprocess) {
  return preprocess == "log1p" || preprocess == "clr" || preprocess == "tfidf" || omics::is_input_encoding(preprocess);
}

// TF-IDF as muon's defaults (omics::tfidf), but with the idf estimated on the training cells:
// idf = log(1 + n_train / colsum_train); a feature never seen in training gets idf 0 (it is
// constant there and is dropped as zero-variance anyway).
std::vector<double> training_idf(const omics::CsrMatrix& train) {
  std::vector<double> colsum(static_cast<size_t>(train.cols), 0.0);
  for (int64_t k = 0; k < train.nnz(); ++k) colsum[static_cast<size_t>(train.indices[k])] += train.data[k];
  std::vector<double> idf(colsum.size());
  for (size_t j = 0; j < idf.size(); ++j)
    idf[j] = colsum[j] > 0 ? std::log1p(static_cast<double>(train.rows) / colsum[j]) : 0.0;
  return idf;
}

// The per-cell (or per-value) part of the preprocessing, the same in fit and apply: binarize,
// log1p of normalised totals, CLR, tf = x / rowsum * scale times the idf of each column, or a
// rank encoding (the rows it could not rank go to `empty_cells` when given).
void transform_cells(omics::CsrMatrix& x, const ModalityPreprocessing& p, const std::vector<double>& idf_per_column,
                     const std::string& what, std::vector<int64_t>* empty_cells = nullptr) {
  for (float v : x.data)
    if (!std::isfinite(v)) fail(what + " holds a non-finite value");
  if (p.bce) {
    x = omics::binarize(x, what);
  } else if (p.preprocess == "log1p") {
    omics::normalize_total(x, p.target_sum, what);
    omics::log1p_inplace(x);
  } else if (p.preprocess == "clr") {
    x = omics::clr_per_cell(x, what);
  } else if (omics::is_input_encoding(p.preprocess)) {
    omics::EncodedCells e = omics::apply_input_encoding(p.encoding, x, what);
    x = std::move(e.x);
    if (empty_cells) *empty_cells = std::move(e.empty_cells);
  } else if (p.preprocess == "tfidf") {
    for (int64_t r = 0; r < x.rows; ++r) {
      double rowsum = 0;
      for (int64_t k = x.indptr[r]; k < x.indptr[r + 1]; ++k) rowsum += x.data[k];
      if (rowsum <= 0) continue;
      for (int64_t k = x.indptr[r]; k < x.indptr[r + 1]; ++k)
        x.data[k] =
            static_cast<float>(x.data[k] / rowsum * p.target_sum * idf_per_column[static_cast<size_t>(x.indices[k])]);
    }
  }
}

// The features kept: those not constant on the (training) cells of `x` (zero_variance), then the
// top_features most variable of them, in their original order.
std::vector<int64_t> kept_features(const omics::CsrMatrix& x, const ModalitySettings& m,
                                   const std::string& zero_variance, bool verbose) {
  // Per-feature statistics over every row (implicit zeros included).
  const size_t cols = static_cast<size_t>(x.cols);
  std::vector<double> sum(cols, 0), sq(cols, 0), lo(cols, INFINITY), hi(cols, -INFINITY);
  std::vector<int64_t> nnz(cols, 0);
  for (int64_t r = 0; r < x.rows; ++r)
    for (int64_t k = x.indptr[r]; k < x.indptr[r + 1]; ++k) {
      const size_t j = static_cast<size_t>(x.indices[k]);
      const double v = x.data[k];
      sum[j] += v;
      sq[j] += v * v;
      lo[j] = std::min(lo[j], v);
      hi[j] = std::max(hi[j], v);
      ++nnz[j];
    }
  const double n = static_cast<double>(x.rows);
  std::vector<int64_t> keep;
  std::vector<double> variance(cols, 0);
  int64_t constant = 0;
  for (size_t j = 0; j < cols; ++j) {
    if (nnz[j] < x.rows) {  // some implicit zeros
      lo[j] = std::min(lo[j], 0.0);
      hi[j] = std::max(hi[j], 0.0);
    }
    const double mean = sum[j] / n;
    variance[j] = std::max(0.0, sq[j] / n - mean * mean);
    if (!(hi[j] > lo[j])) ++constant;
    else keep.push_back(static_cast<int64_t>(j));
  }
  if (constant > 0) {
    if (zero_variance == "error")
      fail("modality '" + m.name + "' (" + m.file + "): " + std::to_string(constant) +
           " features are constant on the training cells (zero variance); use --zero-variance drop to drop them");
    if (verbose)
      apps::note("modality '" + m.name + "': dropped " + std::to_string(constant) +
                 " features that are constant on the training cells (" + std::to_string(keep.size()) + " kept)");
  }
  if (keep.empty()) fail("modality '" + m.name + "': every feature is constant on the training cells");
  if (m.top_features > 0 && m.top_features < static_cast<int64_t>(keep.size())) {
    std::stable_sort(keep.begin(), keep.end(), [&](int64_t a, int64_t b) { return variance[a] > variance[b]; });
    keep.resize(static_cast<size_t>(m.top_features));
    std::sort(keep.begin(), keep.end());
    if (verbose)
      apps::note("modality '" + m.name + "': kept the " + std::to_string(m.top_features) +
                 " most variable features (training cells) of " + std::to_string(cols));
  }
  return keep;
}

// A feature list that names one feature twice cannot be matched to a new file by name.
void warn_on_repeated_names(const std::vector<std::string>& names, const std::string& modality) {
  std::unordered_map<std::string, int> seen;
  int64_t repeated = 0;
  std::string first;
  for (const auto& n : names)
    if (++seen[n] == 2) {
      if (first.empty()) first = n;
      ++repeated;
    }
  if (repeated > 0)
    apps::warn("modality '" + modality + "': " + std::to_string(repeated) + " feature name(s) occur more than once ('" +
               first + "', ...); predict matches features by name and gives every copy the first column of that name");
}

template <class T>
std::vector<T> get_list(const nlohmann::json& j, const char* key, size_t expected, bool required,
                        const std::string& where) {
  if (!j.contains(key)) {
    if (required) fail(where + ": '" + key + "' is missing");
    return {};
  }
  std::vector<T> v;
  try {
    v = j.at(key).get<std::vector<T>>();
  } catch (const nlohmann::json::exception&) {
    fail(where + ": '" + key + "' has the wrong type");
  }
  if (v.size() != expected)
    fail(where + ": '" + key + "' has " + std::to_string(v.size()) + " entries, expected " + std::to_string(expected) +
         " (one per feature)");
  return v;
}

}  // namespace

const std::vector<std::string>& preprocess_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n = {"none", "log1p", "clr", "tfidf", "standardize"};
    for (const auto& e : omics::input_encodings()) n.push_back(e.name);
    return n;
  }();
  return names;
}

bool ModalityPreprocessing::reads_whole_cell() const { return !bce && is_cell_wide(preprocess); }

omics::CsrMatrix csr_columns(const omics::CsrMatrix& x, const std::vector<int64_t>& cols) {
  std::vector<int64_t> where(static_cast<size_t>(x.cols), -1);
  for (size_t j = 0; j < cols.size(); ++j) where[static_cast<size_t>(cols[j])] = static_cast<int64_t>(j);
  omics::CsrMatrix out;
  out.rows = x.rows;
  out.cols = static_cast<int64_t>(cols.size());
  std::vector<std::pair<int64_t, float>> row;
  for (int64_t r = 0; r < x.rows; ++r) {
    row.clear();
    for (int64_t k = x.indptr[r]; k < x.indptr[r + 1]; ++k) {
      const int64_t j = where[static_cast<size_t>(x.indices[k])];
      if (j >= 0) row.emplace_back(j, x.data[k]);
    }
    std::sort(row.begin(), row.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [j, v] : row) {
      out.indices.push_back(j);
      out.data.push_back(v);
    }
    out.indptr.push_back(out.nnz());
  }
  return out;
}

FittedModality fit_preprocessing(const omics::CsrMatrix& x, const std::vector<std::string>& var_names,
                                 const ModalitySettings& s, const std::vector<int64_t>& train_rows,
                                 const std::string& zero_variance, bool verbose) {
  FittedModality f;
  ModalityPreprocessing& p = f.prep;
  p.name = s.name;
  p.preprocess = s.preprocess;
  p.bce = s.bce;
  omics::CsrMatrix train = csr_rows(x, train_rows);
  if (omics::is_input_encoding(p.preprocess)) {
    // Only rank's medians depend on the scale: whole numbers are counts (normalised per cell
    // before the medians), anything else is taken as log1p of normalised counts (expm1 first).
    bool whole = true;
    for (float v : train.data) whole = whole && v == std::floor(v);
    p.encoding = omics::fit_input_encoding(p.preprocess, train, !whole, s.file + ": modality '" + s.name + "'");
    if (verbose && p.preprocess == "rank")
      apps::note("modality '" + s.name + "' (--preprocess " + s.name + "=rank): " +
                 (whole ? "whole numbers, taken as counts: each cell is scaled to 10,000 before the gene medians"
                        : "values are not whole numbers, taken as log1p of normalised counts: expm1 of them is "
                          "divided by the gene medians"));
  }
  const std::vector<double> idf = p.preprocess == "tfidf" && !p.bce ? training_idf(train) : std::vector<double>{};
  transform_cells(train, p, idf, s.file + ": modality '" + s.name + "'");
  const std::vector<int64_t> keep = kept_features(train, s, zero_variance, verbose);
  for (int64_t j : keep) {
    p.features.push_back(var_names[static_cast<size_t>(j)]);
    if (!idf.empty()) p.idf.push_back(idf[static_cast<size_t>(j)]);
  }
  if (p.reads_whole_cell()) {
    p.input_features = var_names;
    p.kept = keep;
    for (int64_t j = 0; j < x.cols; ++j) f.input_columns.push_back(j);
  } else {
    p.input_features = p.features;
    for (size_t j = 0; j < keep.size(); ++j) p.kept.push_back(static_cast<int64_t>(j));
    f.input_columns = keep;
  }
  warn_on_repeated_names(p.input_features, s.name);
  if (p.preprocess == "standardize") {
    // Means and sds (ddof 1) of the training cells; kept features are not constant there, so
    // no sd is zero.
    const omics::DenseMatrix X = dense_columns(train, keep);
    const double n = static_cast<double>(X.rows());
    for (int64_t j = 0; j < X.cols(); ++j) {
      double sum = 0, sq = 0;
      for (int64_t r = 0; r < X.rows(); ++r) sum += X(r, j);
      const double mean = sum / n;
      for (int64_t r = 0; r < X.rows(); ++r) sq += (X(r, j) - mean) * (X(r, j) - mean);
      p.mean.push_back(mean);
      p.sd.push_back(std::sqrt(sq / std::max(1.0, n - 1)));
    }
  }
  return f;
}

omics::DenseMatrix apply_preprocessing(const ModalityPreprocessing& p, omics::CsrMatrix x, const std::string& what,
                                       const std::vector<std::string>& cell_names) {
  if (x.cols != static_cast<int64_t>(p.input_features.size()))
    fail(what + ": expected " + std::to_string(p.input_features.size()) + " input features, found " +
         std::to_string(x.cols));
  std::vector<double> idf_per_column;
  if (!p.idf.empty()) {
    idf_per_column.assign(static_cast<size_t>(x.cols), 0.0);
    for (size_t j = 0; j < p.kept.size(); ++j) idf_per_column[static_cast<size_t>(p.kept[j])] = p.idf[j];
  }
  std::vector<int64_t> empty;
  transform_cells(x, p, idf_per_column, what, &empty);
  if (!empty.empty())
    apps::warn(what + ": " + std::to_string(empty.size()) + " of " + std::to_string(x.rows) +
               " cells have nothing to encode under --preprocess " + p.name + "=" + p.preprocess + " (" +
               omics::describe_cells(empty, cell_names) + "): no nonzero value" +
               (p.preprocess == "rank" ? " in a gene expressed in the training cells" : "") +
               "; their input is all zeros");
  omics::DenseMatrix X = dense_columns(x, p.kept);
  if (p.preprocess == "standardize")
    for (int64_t j = 0; j < X.cols(); ++j)
      X.col(j) = ((X.col(j).cast<double>().array() - p.mean[static_cast<size_t>(j)]) / p.sd[static_cast<size_t>(j)])
                     .cast<float>()
                     .matrix();
  return X;
}

omics::DenseMatrix to_file_scale(const ModalityPreprocessing& p, omics::DenseMatrix x) {
  if (p.preprocess != "standardize") return x;
  for (int64_t j = 0; j < x.cols(); ++j) {
    const double sd = p.sd[static_cast<size_t>(j)], mean = p.mean[static_cast<size_t>(j)];
    for (int64_t i = 0; i < x.rows(); ++i) x(i, j) = static_cast<float>(static_cast<double>(x(i, j)) * sd + mean);
  }
  return x;
}

std::string file_scale_description(const ModalityPreprocessing& p) {
  if (p.bce) return "probability that the feature is nonzero (the model binarized " + p.name + ": --distance bce)";
  if (p.preprocess == "standardize")
    return "the training file's scale of " + p.name + ": standardized model outputs un-scaled (x * sd + mean, " +
           "the training cells' statistics in model.json)";
  if (p.preprocess == "none") return "the training file's scale of " + p.name + " (no preprocessing)";
  return model_scale_description(p) + "; this cannot be undone to the file's values";
}

std::string model_scale_description(const ModalityPreprocessing& p) {
  if (p.bce) return "probability that the feature is nonzero (the model binarized " + p.name + ": --distance bce)";
  if (p.preprocess == "standardize")
    return "standardized: (x - mean) / sd with the training cells' statistics (model/model.json holds them; "
           "predict writes x * sd + mean)";
  if (p.preprocess == "log1p") return "log1p-normalised: normalize_total to " + number(p.target_sum) + ", then log1p";
  if (p.preprocess == "clr") return "CLR-normalised per cell: log1p(x / geometric mean of (1 + x))";
  if (p.preprocess == "tfidf")
    return "TF-IDF: x / cell total * " + number(p.target_sum) + " * idf of the training cells";
  if (omics::is_input_encoding(p.preprocess))
    return p.preprocess + " encoding: " + omics::input_encoding_named(p.preprocess, "encoding").description;
  return "the training file's scale of " + p.name + " (no preprocessing)";
}

void warn_if_already_logarithmic(const omics::Matrix& X, const std::string& what, const std::string& advice) {
  float max_value = -INFINITY;
  bool all_integer = true;
  auto look = [&](float v) {
    if (!std::isfinite(v)) return;
    max_value = std::max(max_value, v);
    if (all_integer && v != std::floor(v)) all_integer = false;
  };
  if (X.sparse)
    for (float v : X.csr.data) look(v);
  else
    for (int64_t i = 0; i < X.dense.size(); ++i) look(X.dense.data()[i]);
  // Counts are integers (or, normalised, reach hundreds); log1p of normalised counts stays
  // below ~12, so non-integers that never reach 20 are almost surely logarithmic already.
  if (!all_integer && max_value < 20)
    apps::warn(what + ": log1p is applied, but the values look logarithmic already (not all integers, maximum " +
               number(max_value) + ", below 20); log1p of log data compresses it twice. " + advice);
}

nlohmann::json preprocessing_to_json(const ModalityPreprocessing& p) {
  nlohmann::json j = {{"name", p.name}, {"preprocess", p.preprocess}, {"bce", p.bce}, {"features", p.features}};
  if (p.reads_whole_cell()) {
    j["input_features"] = p.input_features;
    j["kept"] = p.kept;
  }
  if (p.preprocess == "log1p" || p.preprocess == "tfidf") j["target_sum"] = p.target_sum;
  if (!p.idf.empty()) j["idf"] = p.idf;
  if (!p.mean.empty()) {
    j["mean"] = p.mean;
    j["sd"] = p.sd;
  }
  if (omics::is_input_encoding(p.preprocess) && !p.bce) {
    j["encoding_input"] = p.encoding.log_input ? "log1p" : "counts";
    if (p.preprocess == "rank") j["gene_medians"] = p.encoding.medians;  // per input feature
  }
  return j;
}

ModalityPreprocessing preprocessing_from_json(const nlohmann::json& j, const std::string& where_) {
  if (!j.is_object()) fail(where_ + ": expected an object per modality");
  ModalityPreprocessing p;
  try {
    p.name = j.at("name").get<std::string>();
    p.preprocess = j.at("preprocess").get<std::string>();
    p.bce = j.at("bce").get<bool>();
    p.features = j.at("features").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception&) {
    fail(where_ + ": expected name, preprocess (text), bce (true/false) and features (a list of names)");
  }
  const std::string where = where_ + " '" + p.name + "'";
  if (p.preprocess != "none" && p.preprocess != "log1p" && p.preprocess != "clr" && p.preprocess != "tfidf" &&
      p.preprocess != "standardize" && !omics::is_input_encoding(p.preprocess))
    fail(where + ": unknown preprocess '" + p.preprocess + "' (expected " + join(preprocess_names()) + ")");
  if (p.features.empty()) fail(where + ": 'features' is empty");
  const size_t n = p.features.size();
  if (p.reads_whole_cell()) {
    if (!j.contains("input_features") || !j.contains("kept"))
      fail(where + ": '" + p.preprocess + "' reads whole cells, so 'input_features' and 'kept' are required");
    try {
      p.input_features = j.at("input_features").get<std::vector<std::string>>();
      p.kept = j.at("kept").get<std::vector<int64_t>>();
    } catch (const nlohmann::json::exception&) {
      fail(where + ": 'input_features' must be a list of names and 'kept' a list of positions");
    }
    if (p.kept.size() != n)
      fail(where + ": 'kept' has " + std::to_string(p.kept.size()) + " positions, expected " + std::to_string(n) +
           " (one per feature)");
    for (size_t k = 0; k < n; ++k)
      if (p.kept[k] < 0 || p.kept[k] >= static_cast<int64_t>(p.input_features.size()) ||
          p.input_features[static_cast<size_t>(p.kept[k])] != p.features[k])
        fail(where + ": 'kept' position " + std::to_string(k) + " does not point at feature '" + p.features[k] +
             "' in 'input_features'");
  } else {
    p.input_features = p.features;
    for (size_t k = 0; k < n; ++k) p.kept.push_back(static_cast<int64_t>(k));
  }
  if (p.preprocess == "log1p" || p.preprocess == "tfidf") {
    if (!j.contains("target_sum") || !j.at("target_sum").is_number() || !(j.at("target_sum").get<double>() > 0))
      fail(where + ": expected a positive number 'target_sum'");
    p.target_sum = j.at("target_sum").get<double>();
  }
  const bool tfidf = p.preprocess == "tfidf" && !p.bce, standardize = p.preprocess == "standardize";
  p.idf = get_list<double>(j, "idf", n, tfidf, where);
  p.mean = get_list<double>(j, "mean", n, standardize, where);
  p.sd = get_list<double>(j, "sd", n, standardize, where);
  for (double s : p.sd)
    if (!(s > 0) || !std::isfinite(s)) fail(where + ": 'sd' holds " + number(s) + "; expected positive numbers");
  if (omics::is_input_encoding(p.preprocess) && !p.bce) {
    const bool named = j.contains("encoding_input") && j.at("encoding_input").is_string();
    const std::string input = named ? j.at("encoding_input").get<std::string>() : "";
    if (input != "counts" && input != "log1p")
      fail(where + ": '" + p.preprocess + "' needs 'encoding_input' (counts or log1p), found '" + input + "'");
    p.encoding.name = p.preprocess;
    p.encoding.log_input = input == "log1p";
    if (p.preprocess == "rank") {
      p.encoding.medians = get_list<double>(j, "gene_medians", p.input_features.size(), true, where);
      for (double m : p.encoding.medians)
        if (!(m >= 0) || !std::isfinite(m))
          fail(where + ": 'gene_medians' holds " + number(m) + "; expected numbers >= 0 (0: a gene never expressed)");
    }
  }
  return p;
}

}  // namespace cg::multitask
