#include "apps/train_multitask/data.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "apps/common/expression_input.h"
#include "apps/train_multitask/control_features.h"
#include "autograd/error.h"
#include "omics/h5_read_guard.h"

namespace cg::multitask {
namespace {

[[noreturn]] void fail(const std::string& m) { throw Error(m); }

std::string first_few(const std::vector<std::string>& names, size_t k = 5) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < k; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > k) s += ", ...";
  return s;
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

std::vector<omics::AnnData> read_paired_obs(const ModalityFiles& files, size_t min_cells) {
  std::vector<omics::AnnData> heads;
  for (const auto& [name, file] : files) {
    omics::ReadOptions ro;
    ro.load_X = false;
    ro.load_layers = false;
    ro.load_obsm = false;
    ro.load_uns = false;
    const std::string& path = file;  // a structured binding cannot be captured (C++17; clang refuses)
    heads.push_back(omics::read_guarded(path, [&] { return omics::read_h5ad(path, ro); }));
    const auto& idx = heads.back().obs.index;
    std::unordered_map<std::string, int64_t> seen;
    for (size_t i = 0; i < idx.size(); ++i)
      if (!seen.emplace(idx[i], static_cast<int64_t>(i)).second)
        fail(file + ": obs index of modality '" + name + "' repeats the cell name '" + idx[i] +
             "' (cells are paired by name)");
    if (idx.size() < min_cells)
      fail(file + ": modality '" + name + "' has " + std::to_string(idx.size()) + " cells; at least " +
           std::to_string(min_cells) + " are needed");
  }
  for (size_t m = 1; m < heads.size(); ++m) {
    const std::string msg = describe_mismatch(files[0].first, heads[0].obs.index, files[m].first, heads[m].obs.index);
    if (!msg.empty()) fail(msg);
  }
  return heads;
}

std::vector<int64_t> positions(const omics::AnnData& head, const std::vector<std::string>& names) {
  std::unordered_map<std::string, int64_t> pos;
  for (size_t i = 0; i < head.obs.index.size(); ++i) pos[head.obs.index[i]] = static_cast<int64_t>(i);
  std::vector<int64_t> rows;
  rows.reserve(names.size());
  for (const auto& n : names) rows.push_back(pos.at(n));
  return rows;
}

std::optional<std::vector<std::string>> find_obs_column(const std::vector<omics::AnnData>& heads,
                                                        const std::vector<std::string>& names, const std::string& key) {
  for (const auto& head : heads) {
    if (!head.obs.has(key)) continue;
    const auto values = head.obs.labels(key);
    std::vector<std::string> out;
    for (int64_t r : positions(head, names)) out.push_back(values[static_cast<size_t>(r)]);
    return out;
  }
  return std::nullopt;
}

namespace {

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
  ro.load_uns = true;  // uns['control_features']
  const MatrixSource source = matrix_source(c.layer, c.use_raw, files[m].first);
  omics::AnnData a = apps::read_h5ad_source(files[m].second, ro, source.layer, source.use_raw);
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
  r.controls = resolve_control_features(
      parse_control_features(c.control_features, parse_assignments(c.modalities, "--modality")), r.name, r.file, a.uns,
      a.var.index);
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
    const auto out = *find_obs_column({heads[m]}, names, key);
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
  const std::vector<omics::AnnData> heads = read_paired_obs(files, 4);
  Dataset d;
  for (size_t m = 0; m < files.size(); ++m) {
    d.modalities.push_back(
        read_modality(c, files, m, positions(heads[m], heads[0].obs.index), m == 0 ? &d.obs : nullptr));
    const RawModality& r = d.modalities.back();
    if (r.preprocess == "log1p" && !r.bce)
      warn_if_already_logarithmic(r.X, r.file + ": modality '" + r.name + "' (--preprocess " + r.name + "=log1p)",
                                  "If the file holds log-normalised values, use --preprocess " + r.name + "=none.");
  }
  if (!c.label_key.empty()) encode_labels(obs_column(heads, files, c.label_key, "--label-key"), c.label_key, d);
  d.condition = omics::DenseMatrix(d.cells(), 0);
  if (!c.condition_key.empty())
    encode_conditions(obs_column(heads, files, c.condition_key, "--condition-key"), c.condition_key, d);
  return d;
}

std::vector<PreparedModality> prepare_modalities(const Dataset& d, const std::vector<int64_t>& train_rows,
                                                 const std::string& zero_variance, bool verbose) {
  std::vector<PreparedModality> out;
  for (const auto& m : d.modalities) {
    const omics::CsrMatrix x = m.X.sparse ? m.X.csr : omics::CsrMatrix::from_dense(m.X.dense);
    FittedModality f = fit_preprocessing(x, m.var.index, m, train_rows, zero_variance, verbose);
    PreparedModality p;
    p.name = m.name;
    p.bce = m.bce;
    for (int64_t k : f.prep.kept) p.features.push_back(f.input_columns[static_cast<size_t>(k)]);
    p.var = m.var.take(p.features);
    // The same apply step predict uses, on the columns it would read from a new file.
    p.X = apply_preprocessing(f.prep, f.prep.reads_whole_cell() ? x : csr_columns(x, f.input_columns),
                              m.file + ": modality '" + m.name + "'", d.obs.index);
    p.prep = std::move(f.prep);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace cg::multitask
