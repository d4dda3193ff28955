#include "apps/train_multitask/data.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <unordered_map>

#include "autograd/error.h"
#include "omics/preprocess.h"

namespace cg::multitask {
namespace {

[[noreturn]] void fail(const std::string& m) { throw Error(m); }

std::string first_few(const std::vector<std::string>& names, size_t k = 5) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < k; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > k) s += ", ...";
  return s;
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

// TF-IDF as muon's defaults (omics::tfidf), but with the idf estimated on the training cells:
// tf = x / rowsum * 1e4; idf = log(1 + n_train / colsum_train); a peak never seen open in
// training gets idf 0 (it is constant there and is dropped as zero-variance anyway).
void tfidf_train_idf(omics::CsrMatrix& x, const std::vector<int64_t>& train) {
  std::vector<double> colsum(static_cast<size_t>(x.cols), 0.0);
  for (int64_t r : train)
    for (int64_t k = x.indptr[r]; k < x.indptr[r + 1]; ++k) colsum[static_cast<size_t>(x.indices[k])] += x.data[k];
  std::vector<double> idf(colsum.size());
  for (size_t j = 0; j < idf.size(); ++j)
    idf[j] = colsum[j] > 0 ? std::log1p(static_cast<double>(train.size()) / colsum[j]) : 0.0;
  for (int64_t r = 0; r < x.rows; ++r) {
    double rowsum = 0;
    for (int64_t k = x.indptr[r]; k < x.indptr[r + 1]; ++k) rowsum += x.data[k];
    if (rowsum <= 0) continue;
    for (int64_t k = x.indptr[r]; k < x.indptr[r + 1]; ++k)
      x.data[k] = static_cast<float>(x.data[k] / rowsum * 1e4 * idf[static_cast<size_t>(x.indices[k])]);
  }
}

}  // namespace

std::vector<std::string> Dataset::strata() const {
  std::vector<std::string> s(static_cast<size_t>(cells()));
  if (has_labels())
    for (size_t i = 0; i < s.size(); ++i) s[i] = label_names[static_cast<size_t>(labels[i])];
  return s;
}

std::string describe_mismatch(const std::string& name_a, const std::vector<std::string>& a, const std::string& name_b,
                              const std::vector<std::string>& b) {
  const std::set<std::string> sa(a.begin(), a.end()), sb(b.begin(), b.end());
  std::vector<std::string> only_a, only_b;
  for (const auto& n : a)
    if (!sb.count(n)) only_a.push_back(n);
  for (const auto& n : b)
    if (!sa.count(n)) only_b.push_back(n);
  if (only_a.empty() && only_b.empty()) return "";
  std::string m = "modalities '" + name_a + "' and '" + name_b +
                  "' do not hold the same cells (paired by obs index): " + std::to_string(a.size()) + " vs " +
                  std::to_string(b.size()) + " cells; " + std::to_string(only_a.size()) + " only in '" + name_a + "'";
  if (!only_a.empty()) m += " (" + first_few(only_a) + ")";
  m += ", " + std::to_string(only_b.size()) + " only in '" + name_b + "'";
  if (!only_b.empty()) m += " (" + first_few(only_b) + ")";
  return m;
}

namespace {

using ModalityFiles = std::vector<std::pair<std::string, std::string>>;  // (name, file)

// The obs tables of every modality (no X), checked to hold the same cells under unique names.
std::vector<omics::AnnData> read_paired_obs(const ModalityFiles& files) {
  std::vector<omics::AnnData> heads;
  for (const auto& [name, file] : files) {
    omics::ReadOptions ro;
    ro.load_X = false;
    ro.load_layers = false;
    ro.load_obsm = false;
    ro.load_uns = false;
    heads.push_back(omics::read_h5ad(file, ro));
    const auto& idx = heads.back().obs.index;
    std::unordered_map<std::string, int64_t> seen;
    for (size_t i = 0; i < idx.size(); ++i)
      if (!seen.emplace(idx[i], static_cast<int64_t>(i)).second)
        fail(file + ": obs index of modality '" + name + "' repeats the cell name '" + idx[i] +
             "' (cells are paired by name)");
    if (idx.size() < 4)
      fail(file + ": modality '" + name + "' has " + std::to_string(idx.size()) + " cells; at least 4 are needed");
  }
  for (size_t m = 1; m < heads.size(); ++m) {
    const std::string msg = describe_mismatch(files[0].first, heads[0].obs.index, files[m].first, heads[m].obs.index);
    if (!msg.empty()) fail(msg);
  }
  return heads;
}

// Where each of `names` sits in `head`'s obs.
std::vector<int64_t> positions(const omics::AnnData& head, const std::vector<std::string>& names) {
  std::unordered_map<std::string, int64_t> pos;
  for (size_t i = 0; i < head.obs.index.size(); ++i) pos[head.obs.index[i]] = static_cast<int64_t>(i);
  std::vector<int64_t> rows;
  rows.reserve(names.size());
  for (const auto& n : names) rows.push_back(pos.at(n));
  return rows;
}

// Modality m's matrix with its cells in the first modality's order, and its settings.
RawModality read_modality(const Config& c, const ModalityFiles& files, size_t m, const std::vector<int64_t>& rows,
                          omics::DataFrame* obs) {
  const auto pre = parse_assignments(c.preprocess, "--preprocess");
  const auto dist = parse_assignments(c.distance, "--distance");
  const auto top = parse_assignments(c.top_features, "--top-features");
  omics::ReadOptions ro;
  ro.rows = rows;
  ro.load_layers = false;
  ro.load_obsm = false;
  ro.load_uns = false;
  omics::AnnData a = omics::read_h5ad(files[m].second, ro);
  RawModality r;
  r.name = files[m].first;
  r.file = files[m].second;
  if (pre.count(r.name)) r.preprocess = pre.at(r.name);
  r.bce = dist.count(r.name) && dist.at(r.name) == "bce";
  if (top.count(r.name)) r.top_features = std::stoll(top.at(r.name));
  if (r.bce && r.preprocess != "none")
    fail("--distance " + r.name + "=bce binarizes the data, so --preprocess " + r.name + " must be none (found " +
         r.preprocess + ")");
  if (a.n_vars() < 1) fail(r.file + ": modality '" + r.name + "' has no features");
  r.X = std::move(a.X);
  r.var = std::move(a.var);
  if (obs) *obs = std::move(a.obs);
  return r;
}

// A label or condition column may live in any modality's obs; the first that has it wins.
std::vector<std::string> obs_column(const std::vector<omics::AnnData>& heads, const ModalityFiles& files,
                                    const std::string& key, const std::string& flag) {
  const std::vector<std::string>& names = heads[0].obs.index;
  for (size_t m = 0; m < files.size(); ++m) {
    if (!heads[m].obs.has(key)) continue;
    const auto values = heads[m].obs.labels(key);
    std::vector<std::string> out;
    for (int64_t r : positions(heads[m], names)) out.push_back(values[static_cast<size_t>(r)]);
    for (size_t i = 0; i < out.size(); ++i)
      if (out[i].empty()) fail(files[m].second + ": " + flag + " '" + key + "' is missing for cell '" + names[i] + "'");
    return out;
  }
  std::string cols;
  for (const auto& col : heads[0].obs.column_order) cols += (cols.empty() ? "" : ", ") + col;
  fail(flag + " '" + key + "': no modality has this obs column (columns of '" + files[0].first + "': " + cols + ")");
}

void encode_labels(const std::vector<std::string>& labels, const std::string& key, Dataset& d) {
  std::map<std::string, int64_t> counts;
  for (const auto& l : labels) ++counts[l];
  for (const auto& [name, n] : counts)
    if (n < 2)
      fail("--label-key '" + key + "': class '" + name +
           "' has a single cell; it can be neither held out nor learned (remove it or merge it)");
  if (counts.size() < 2)
    fail("--label-key '" + key + "': a single class ('" + counts.begin()->first + "'); nothing to classify");
  std::map<std::string, int32_t> code;
  for (const auto& [name, n] : counts) {
    code[name] = static_cast<int32_t>(d.label_names.size());
    d.label_names.push_back(name);
  }
  for (const auto& l : labels) d.labels.push_back(code.at(l));
}

void encode_conditions(const std::vector<std::string>& conds, const std::string& key, Dataset& d) {
  const std::set<std::string> uniq(conds.begin(), conds.end());
  d.condition_names.assign(uniq.begin(), uniq.end());
  if (d.condition_names.size() < 2)
    fail("--condition-key '" + key + "': a single condition; FiLM conditioning needs at least two");
  d.condition = omics::DenseMatrix::Zero(d.cells(), static_cast<int64_t>(d.condition_names.size()));
  for (size_t i = 0; i < conds.size(); ++i)
    d.condition(
        static_cast<int64_t>(i),
        std::lower_bound(d.condition_names.begin(), d.condition_names.end(), conds[i]) - d.condition_names.begin()) = 1;
}

}  // namespace

Dataset load_dataset(const Config& c) {
  ModalityFiles files;
  for (const auto& e : c.modalities) {
    const auto eq = e.find('=');
    files.emplace_back(e.substr(0, eq), e.substr(eq + 1));
  }
  // Obs tables first (no X), to pair the cells before any matrix is read.
  const std::vector<omics::AnnData> heads = read_paired_obs(files);
  Dataset d;
  for (size_t m = 0; m < files.size(); ++m)
    d.modalities.push_back(
        read_modality(c, files, m, positions(heads[m], heads[0].obs.index), m == 0 ? &d.obs : nullptr));
  if (!c.label_key.empty()) encode_labels(obs_column(heads, files, c.label_key, "--label-key"), c.label_key, d);
  d.condition = omics::DenseMatrix(d.cells(), 0);
  if (!c.condition_key.empty())
    encode_conditions(obs_column(heads, files, c.condition_key, "--condition-key"), c.condition_key, d);
  return d;
}

namespace {

// The modality's values after its --distance / --preprocess transformation (CSR).
omics::CsrMatrix transformed(const RawModality& m, const std::vector<int64_t>& train_rows) {
  omics::CsrMatrix x = m.X.sparse ? m.X.csr : omics::CsrMatrix::from_dense(m.X.dense);
  for (float v : x.data)
    if (!std::isfinite(v)) fail(m.file + ": modality '" + m.name + "' holds a non-finite value");
  if (m.bce) x = omics::binarize(x, m.name);
  else if (m.preprocess == "log1p") {
    omics::normalize_total(x, 1e4, m.name);
    omics::log1p_inplace(x);
  } else if (m.preprocess == "clr") {
    x = omics::clr_per_cell(x, m.name);
  } else if (m.preprocess == "tfidf") {
    tfidf_train_idf(x, train_rows);
  }
  return x;
}

// The features kept: those not constant on the training cells (--zero-variance), then the
// --top-features most variable of them, in their original order.
std::vector<int64_t> kept_features(const omics::CsrMatrix& x, const RawModality& m,
                                   const std::vector<int64_t>& train_rows, const std::string& zero_variance,
                                   bool verbose) {
  // Per-feature statistics over the training cells (implicit zeros included).
  const size_t cols = static_cast<size_t>(x.cols);
  std::vector<double> sum(cols, 0), sq(cols, 0), lo(cols, INFINITY), hi(cols, -INFINITY);
  std::vector<int64_t> nnz(cols, 0);
  for (int64_t r : train_rows)
    for (int64_t k = x.indptr[r]; k < x.indptr[r + 1]; ++k) {
      const size_t j = static_cast<size_t>(x.indices[k]);
      const double v = x.data[k];
      sum[j] += v;
      sq[j] += v * v;
      lo[j] = std::min(lo[j], v);
      hi[j] = std::max(hi[j], v);
      ++nnz[j];
    }
  const double n = static_cast<double>(train_rows.size());
  std::vector<int64_t> keep;
  std::vector<double> variance(cols, 0);
  int64_t constant = 0;
  for (size_t j = 0; j < cols; ++j) {
    if (nnz[j] < static_cast<int64_t>(train_rows.size())) {  // some implicit zeros
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
      std::fprintf(stderr,
                   "note: modality '%s': dropped %lld features that are constant on the training cells (%lld kept)\n",
                   m.name.c_str(), static_cast<long long>(constant), static_cast<long long>(keep.size()));
  }
  if (keep.empty()) fail("modality '" + m.name + "': every feature is constant on the training cells");
  if (m.top_features > 0 && m.top_features < static_cast<int64_t>(keep.size())) {
    std::stable_sort(keep.begin(), keep.end(), [&](int64_t a, int64_t b) { return variance[a] > variance[b]; });
    keep.resize(static_cast<size_t>(m.top_features));
    std::sort(keep.begin(), keep.end());
    if (verbose)
      std::fprintf(stderr, "note: modality '%s': kept the %lld most variable features (training cells) of %lld\n",
                   m.name.c_str(), static_cast<long long>(m.top_features), static_cast<long long>(cols));
  }
  return keep;
}

// Means and stds (ddof 1) of the training cells; kept features are non-constant there, so no
// std is zero.
void standardize_columns(omics::DenseMatrix& X, const std::vector<int64_t>& train_rows) {
  const double n = static_cast<double>(train_rows.size());
  for (int64_t j = 0; j < X.cols(); ++j) {
    double s = 0, s2 = 0;
    for (int64_t r : train_rows) s += X(r, j);
    const double mean = s / n;
    for (int64_t r : train_rows) s2 += (X(r, j) - mean) * (X(r, j) - mean);
    const double sd = std::sqrt(s2 / std::max(1.0, n - 1));
    X.col(j) = ((X.col(j).cast<double>().array() - mean) / sd).cast<float>().matrix();
  }
}

}  // namespace

std::vector<PreparedModality> prepare_modalities(const Dataset& d, const std::vector<int64_t>& train_rows,
                                                 const std::string& zero_variance, bool verbose) {
  std::vector<PreparedModality> out;
  for (const auto& m : d.modalities) {
    const omics::CsrMatrix x = transformed(m, train_rows);
    const std::vector<int64_t> keep = kept_features(x, m, train_rows, zero_variance, verbose);
    PreparedModality p;
    p.name = m.name;
    p.bce = m.bce;
    p.features = keep;
    p.var = m.var.take(keep);
    p.X = dense_columns(x, keep);
    if (m.preprocess == "standardize") standardize_columns(p.X, train_rows);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace cg::multitask
