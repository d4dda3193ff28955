#include "apps/common/expression_input.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <unordered_map>

#include "apps/common/run_notes.h"
#include "autograd/error.h"
#include "base/text.h"
#include "omics/h5_read_guard.h"
#include "omics/normalize.h"

namespace cg::apps {
namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string first_few(const std::vector<std::string>& names, size_t n = 5) {
  std::vector<std::string> head(names.begin(), names.begin() + std::min(n, names.size()));
  return join_quoted(head) + (names.size() > n ? ", ..." : "");
}

std::string number(double v) {
  std::ostringstream os;
  os.precision(4);
  os << v;
  return os.str();
}

omics::AnnData read_source(const std::string& path, const ExpressionOptions& o) {
  if (ends_with(path, ".h5") && !ends_with(path, ".h5ad")) {
    if (!o.layer.empty() || o.use_raw)
      throw Error(path + ": a 10x Genomics .h5 file has one matrix; --layer and --use-raw apply to .h5ad files");
    return omics::read_guarded(path, [&] { return omics::read_10x_h5(path); });
  }
  omics::ReadOptions ro;
  ro.load_obsm = false;
  ro.load_uns = false;
  return read_h5ad_source(path, ro, o.layer, o.use_raw);
}

std::string source_name(const std::string& path, const ExpressionOptions& o) {
  return path + (o.use_raw ? " (.raw)" : !o.layer.empty() ? " (layer '" + o.layer + "')" : std::string(" (X)"));
}

}  // namespace

omics::AnnData read_h5ad_source(const std::string& path, omics::ReadOptions ro, const std::string& layer,
                                bool use_raw) {
  if (!layer.empty() && use_raw)
    throw Error(path + ": --layer and --use-raw both choose the matrix to read; give one of them");
  ro.use_raw = use_raw;
  ro.load_layers = !layer.empty();
  omics::AnnData a = omics::read_guarded(path, [&] { return omics::read_h5ad(path, ro); });
  if (!layer.empty()) {
    const auto it = a.layers.find(layer);
    if (it == a.layers.end()) {
      std::vector<std::string> present;
      for (const auto& [name, m] : a.layers) present.push_back(name);
      throw Error(path + ": --layer '" + layer +
                  "' does not exist; layers present: " + (present.empty() ? std::string("none") : join(present)));
    }
    a.X = std::move(it->second);
  }
  a.layers.clear();
  return a;
}

void check_preprocess_name(const std::string& preprocess) {
  if (preprocess != "none" && preprocess != "log1p")
    throw Error("--preprocess: expected none or log1p, found '" + preprocess + "'");
}

omics::AnnData read_expression(const std::string& path, const ExpressionOptions& o) {
  check_preprocess_name(o.preprocess);
  omics::AnnData a = read_source(path, o);
  const std::string what = source_name(path, o);
  omics::DenseMatrix X = a.X.to_dense();
  a.X = omics::Matrix{};
  bool normalise = o.preprocess == "log1p";
  if (o.normalise_counts && o.preprocess == "none") {
    bool integers = true;
    float largest = 0;
    for (int64_t i = 0; i < X.size() && integers; ++i) {
      integers = X.data()[i] == std::floor(X.data()[i]);
      largest = std::max(largest, X.data()[i]);
    }
    normalise = integers && largest > 1;
    if (normalise) note(what + ": whole numbers, taken as counts: normalize_total 1e4, then log1p");
  }
  if (normalise) {
    omics::normalize_total(X, 1e4, what);  // refuses negative or non-finite values, naming them
    omics::log1p_inplace(X);
  }
  float max_value = 0, min_value = 0;
  bool all_integer = true;
  for (int64_t i = 0; i < X.size(); ++i) {
    const float v = X.data()[i];
    if (!std::isfinite(v))
      throw Error(what + ": holds a non-finite value at cell " + std::to_string(i / X.cols()) + ", gene " +
                  std::to_string(i % X.cols()));
    max_value = std::max(max_value, v);
    min_value = std::min(min_value, v);
    if (all_integer && v != std::floor(v)) all_integer = false;
  }
  if (min_value < 0)
    throw Error(what + ": holds negative values (minimum " + number(min_value) +
                "); expected log1p of normalised counts, and this looks scaled (scanpy pp.scale). Use --use-raw "
                "(the log data scanpy keeps in .raw) or --layer NAME with log-normalised values");
  if (all_integer && max_value > 1 && o.preprocess == "none") {
    const std::string found = what + ": looks like raw counts (all integers, maximum " + number(max_value) + ")";
    if (!o.allow_counts)
      throw Error(found +
                  "; expected log1p of normalised counts. Pass --preprocess log1p to normalise them here, or "
                  "--layer NAME for a layer with log-normalised values (or --allow-counts to use them as they are)");
    warn(found + "; used as they are (--allow-counts)");
  } else if (max_value > 20) {
    warn(what + ": maximum " + number(max_value) +
         " is large for log1p of normalised counts; the models expect log-normalised data");
  }
  a.X = omics::Matrix::from(std::move(X));
  return a;
}

omics::DenseMatrix align_genes(const omics::DenseMatrix& X, const std::vector<std::string>& file_genes,
                               const std::vector<std::string>& model_genes, const std::string& fill_missing,
                               const std::string& source, const std::string& noun) {
  if (fill_missing != "" && fill_missing != "zeros" && fill_missing != "error")
    throw Error("--fill-missing: expected zeros, found '" + fill_missing + "'");
  std::unordered_map<std::string, int64_t> column;
  std::vector<std::string> repeated;
  for (size_t j = 0; j < file_genes.size(); ++j)
    if (!column.emplace(file_genes[j], static_cast<int64_t>(j)).second) repeated.push_back(file_genes[j]);
  std::vector<std::string> missing;
  std::unordered_map<std::string, bool> in_model;
  for (const auto& g : model_genes) {
    in_model[g] = true;
    if (!column.count(g)) missing.push_back(g);
  }
  const size_t found = model_genes.size() - missing.size();
  if (found == 0)
    throw Error(source + ": none of the model's " + std::to_string(model_genes.size()) + " " + noun +
                " is in the file (the file's start " + first_few(file_genes) + "; the model's start " +
                first_few(model_genes) + ")");
  if (!missing.empty() && fill_missing != "zeros")
    throw Error(source + ": " + std::to_string(missing.size()) + " of the model's " +
                std::to_string(model_genes.size()) + " " + noun + " are missing from the file (" + first_few(missing) +
                "); expected every one the model was trained on (--fill-missing zeros sets them to 0)");
  if (!missing.empty())
    note(source + ": " + std::to_string(found) + " of the model's " + std::to_string(model_genes.size()) + " " + noun +
         " found; the other " + std::to_string(missing.size()) + " are set to 0 (--fill-missing zeros)");
  size_t extra = 0;
  for (const auto& [g, j] : column) extra += in_model.count(g) ? 0 : 1;
  if (extra > 0) note(source + ": " + std::to_string(extra) + " " + noun + " the model does not use are dropped");
  if (!repeated.empty())
    note(source + ": " + std::to_string(repeated.size()) + " " + noun + " names occur more than once (" +
         first_few(repeated) + "); the first occurrence is used");
  omics::DenseMatrix out = omics::DenseMatrix::Zero(X.rows(), static_cast<int64_t>(model_genes.size()));
  for (size_t k = 0; k < model_genes.size(); ++k) {
    const auto it = column.find(model_genes[k]);
    if (it != column.end()) out.col(static_cast<int64_t>(k)) = X.col(it->second);
  }
  return out;
}

}  // namespace cg::apps
