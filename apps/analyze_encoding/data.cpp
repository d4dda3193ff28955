#include "apps/analyze_encoding/data.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <unordered_map>

#include "apps/common/expression_input.h"
#include "apps/common/run_notes.h"
#include "apps/common/svg_plot.h"
#include "autograd/error.h"
#include "base/text.h"
#include "omics/anndata.h"
#include "omics/filter.h"
#include "omics/h5_read_guard.h"
#include "omics/normalize.h"
#include "omics/rng.h"

namespace cg::encoding {
namespace {

std::string first_few(const std::vector<std::string>& names, size_t n = 3) {
  std::vector<std::string> head(names.begin(), names.begin() + std::min(n, names.size()));
  return join_quoted(head) + (names.size() > n ? ", ..." : "");
}

Codes encode(const std::vector<std::string>& values) {
  Codes c;
  c.names = values;
  std::sort(c.names.begin(), c.names.end(), apps::natural_less);
  c.names.erase(std::unique(c.names.begin(), c.names.end()), c.names.end());
  std::unordered_map<std::string, int> index;
  for (size_t i = 0; i < c.names.size(); ++i) index[c.names[i]] = static_cast<int>(i);
  for (const auto& v : values) c.code.push_back(index.at(v));
  return c;
}

// A column's values as text; a missing column is the reader's error naming the columns there.
std::vector<std::string> column_of(const omics::DataFrame& obs, const std::string& key, const std::string& flag) {
  if (!obs.has(key)) {
    std::vector<std::string> present = obs.column_order;
    throw Error(obs.source_file + ": " + flag + " '" + key + "' is not an obs column (columns present: " +
                (present.empty() ? std::string("none") : join(present)) + ")");
  }
  return obs.labels(key);
}

struct FileHeader {
  std::string path;
  omics::AnnData meta;  // obs and var only
};

}  // namespace

CellData load_cells(const Config& c) {
  // obs and var of every file first: keys are checked before any matrix is read.
  std::vector<FileHeader> files;
  int64_t total = 0;
  for (const auto& path : c.data) {
    omics::ReadOptions ro;
    ro.load_X = false;
    ro.load_obsm = ro.load_uns = ro.load_layers = false;
    FileHeader h{path, omics::read_guarded(path, [&] { return omics::read_h5ad(path, ro); })};
    column_of(h.meta.obs, c.label_key, "--label-key");
    if (!c.batch_key.empty()) column_of(h.meta.obs, c.batch_key, "--batch-key");
    if (!c.condition_key.empty()) column_of(h.meta.obs, c.condition_key, "--condition-key");
    total += h.meta.n_obs();
    files.push_back(std::move(h));
  }
  // Genes every file has, in the first file's order.
  std::vector<std::string> genes = files[0].meta.var.index;
  for (size_t f = 1; f < files.size(); ++f) {
    std::unordered_map<std::string, int> in_file;
    for (const auto& g : files[f].meta.var.index) in_file[g] = 1;
    std::vector<std::string> kept;
    for (const auto& g : genes)
      if (in_file.count(g)) kept.push_back(g);
    if (kept.size() != genes.size() || kept.size() != files[f].meta.var.index.size())
      apps::note(files[f].path + ": genes matched by name: " + std::to_string(kept.size()) + " shared with the files before it");
    genes = std::move(kept);
  }
  if (genes.empty()) throw Error("--data: the files share no gene names");
  // The subsample: the first max_cells of a seeded shuffle of all cells, in file order.
  std::vector<int64_t> chosen(static_cast<size_t>(total));
  std::iota(chosen.begin(), chosen.end(), 0);
  if (c.max_cells > 0 && c.max_cells < total) {
    omics::SplitMix64 rng(c.seed);
    omics::fisher_yates(chosen, rng);
    chosen.resize(static_cast<size_t>(c.max_cells));
    std::sort(chosen.begin(), chosen.end());
  }
  CellData d;
  d.genes = genes;
  std::vector<std::string> labels, batches, conditions;
  std::vector<omics::CsrMatrix> parts;
  int64_t offset = 0;
  for (auto& h : files) {
    const int64_t n = h.meta.n_obs();
    std::vector<int64_t> rows;
    for (int64_t g : chosen)
      if (g >= offset && g < offset + n) rows.push_back(g - offset);
    offset += n;
    if (rows.empty()) continue;
    std::unordered_map<std::string, int64_t> column;
    for (size_t j = 0; j < h.meta.var.index.size(); ++j) column.emplace(h.meta.var.index[j], static_cast<int64_t>(j));
    std::vector<int64_t> cols;
    for (const auto& g : genes) cols.push_back(column.at(g));
    omics::ReadOptions ro;
    ro.rows = rows;
    ro.genes = cols;
    ro.load_obsm = ro.load_uns = false;
    omics::AnnData a = apps::read_h5ad_source(h.path, ro, c.layer, false);
    parts.push_back(a.X.sparse ? std::move(a.X.csr) : omics::CsrMatrix::from_dense(a.X.dense));
    auto take = [&](const std::string& key, std::vector<std::string>& into) {
      if (key.empty()) return;
      const auto v = a.obs.labels(key);
      into.insert(into.end(), v.begin(), v.end());
    };
    take(c.label_key, labels);
    take(c.batch_key, batches);
    take(c.condition_key, conditions);
    d.cells.insert(d.cells.end(), a.obs.index.begin(), a.obs.index.end());
  }
  d.source = join(c.data) + (c.layer.empty() ? " (X)" : " (layer '" + c.layer + "')");
  // Pool the files' rows.
  omics::CsrMatrix x;
  x.cols = static_cast<int64_t>(genes.size());
  for (const auto& p : parts) {
    for (int64_t r = 0; r < p.rows; ++r) {
      for (int64_t q = p.indptr[r]; q < p.indptr[r + 1]; ++q) {
        x.indices.push_back(p.indices[q]);
        x.data.push_back(p.data[q]);
      }
      x.indptr.push_back(x.nnz());
    }
    x.rows += p.rows;
  }
  parts.clear();
  d.cells_read = x.rows;
  // What the values are: counts (whole numbers) or log-normalised already.
  bool whole = true;
  for (int64_t p = 0; p < x.nnz(); ++p) {
    const float v = x.data[p];
    if (!std::isfinite(v)) throw Error(d.source + ": holds a non-finite value (entry " + std::to_string(p) + ")");
    if (v < 0)
      throw Error(d.source + ": holds negative values (" + std::to_string(v) +
                  "); expected counts or log1p of normalised counts, and this looks scaled (scanpy pp.scale). Use "
                  "--layer NAME with counts or log-normalised values");
    if (whole && v != std::floor(v)) whole = false;
  }
  // Cells to keep: a label, and at least one nonzero value.
  std::vector<int64_t> keep;
  std::vector<std::string> empty_names;
  for (int64_t r = 0; r < x.rows; ++r) {
    bool any = false;
    for (int64_t q = x.indptr[r]; q < x.indptr[r + 1] && !any; ++q) any = x.data[q] > 0;
    if (labels[static_cast<size_t>(r)].empty()) ++d.unlabelled_cells;
    else if (!any) empty_names.push_back(d.cells[static_cast<size_t>(r)]);
    else keep.push_back(r);
  }
  d.empty_cells = static_cast<int64_t>(empty_names.size());
  if (d.empty_cells > 0)
    apps::note(d.source + ": " + std::to_string(d.empty_cells) + " cells have no nonzero value (" +
               first_few(empty_names) + "); they are left out of every encoding (no genes to rank, no correlation)");
  if (d.unlabelled_cells > 0)
    apps::note(d.source + ": " + std::to_string(d.unlabelled_cells) + " cells have no '" + c.label_key +
               "' value; they are left out");
  if (keep.size() < 3)
    throw Error(d.source + ": " + std::to_string(keep.size()) +
                " cells have a label and a nonzero value; at least 3 are needed");
  if (static_cast<int64_t>(keep.size()) != x.rows) {
    x = omics::csr_select_rows(x, keep);
    auto pick = [&](std::vector<std::string>& v) {
      if (v.empty()) return;
      std::vector<std::string> out;
      for (int64_t r : keep) out.push_back(v[static_cast<size_t>(r)]);
      v = std::move(out);
    };
    pick(labels);
    pick(batches);
    pick(conditions);
    pick(d.cells);
  }
  d.labels = encode(labels);
  if (d.labels.names.size() < 2)
    throw Error(d.source + ": --label-key '" + c.label_key + "' has one value ('" + d.labels.names[0] +
                "') in the cells analysed; within- vs between-type measures need at least two");
  if (!c.batch_key.empty()) {
    d.batches = encode(batches);
    if (d.batches.names.size() < 2)
      throw Error(d.source + ": --batch-key '" + c.batch_key + "' has one value ('" + d.batches.names[0] +
                  "') in the cells analysed; batch mixing needs at least two batches");
  }
  if (!c.condition_key.empty()) {
    bool has_control = false, has_stim = false;
    for (const auto& v : conditions) {
      d.condition.push_back(v == c.control ? 0 : v == c.stimulated ? 1 : -1);
      has_control |= v == c.control;
      has_stim |= v == c.stimulated;
    }
    if (!has_control || !has_stim) {
      std::vector<std::string> values = conditions;
      std::sort(values.begin(), values.end());
      values.erase(std::unique(values.begin(), values.end()), values.end());
      throw Error(d.source + ": --condition-key '" + c.condition_key + "' has no '" +
                  (has_control ? c.stimulated : c.control) + "' cells (values present: " + join(values) +
                  "); set --control and --stimulated");
    }
  }
  // The two views of the values.
  d.input_was_log = !whole;
  d.normalized = x;
  if (whole) {
    omics::normalize_total(d.normalized, 1e4, d.source);
    d.log = d.normalized;
    omics::log1p_inplace(d.log);
  } else {
    apps::note(d.source + ": values are not whole numbers, so they are taken as log1p of normalised counts and used "
               "as they are for log1p, pca and bins; the rank encodings rank their expm1 (the normalised values)");
    d.log = x;
    for (auto& v : d.normalized.data) v = static_cast<float>(std::expm1(double(v)));
  }
  return d;
}

}  // namespace cg::encoding
