#include "omics/genesets.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "omics/error.h"

namespace cg::omics {

namespace {

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Lines of a text file without their '\n' / "\r\n" endings.
std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open: " + std::strerror(errno));
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  if (in.bad()) throw DataError(path + ": read error");
  return lines;
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t t = line.find('\t', pos);
    out.push_back(line.substr(pos, t == std::string::npos ? std::string::npos : t - pos));
    if (t == std::string::npos) break;
    pos = t + 1;
  }
  return out;
}

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

double parse_number(const std::string& s, const std::string& path, size_t line_no, const std::string& field) {
  const char* b = s.c_str();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(b, &end);
  while (end && *end && std::isspace(static_cast<unsigned char>(*end))) ++end;
  // Underflow (a p-value below 1e-308) is fine; overflow, NaN and text are not.
  if (s.empty() || end == b || (end && *end) || !std::isfinite(v))
    throw DataError(path + ": line " + std::to_string(line_no) + ": " + field + " '" + s + "' is not a finite number");
  return v;
}

// Cell Ranger names the genes of a multi-genome reference "<genome>_<symbol>" (ECCITE's RNA here:
// hg19_CD3E); the symbol after a known genome prefix, or "" when there is none.
std::string without_genome_prefix(const std::string& upper_name) {
  static const char* const kGenomes[] = {"HG19", "HG38", "GRCH37", "GRCH38", "MM9", "MM10", "MM39", "GRCM38", "GRCM39"};
  for (const char* g : kGenomes) {
    const std::string p(g);
    if (upper_name.size() > p.size() + 1 && upper_name.compare(0, p.size(), p) == 0 &&
        (upper_name[p.size()] == '_' || upper_name[p.size()] == '-'))
      return upper_name.substr(p.size() + 1);
  }
  return "";
}

// Dataset genes by upper-cased symbol (a symbol may name several columns), also under the symbol
// without a genome prefix, so "hg19_CD3E" matches a set's CD3E.
std::unordered_map<std::string, std::vector<int64_t>> index_genes(const std::vector<std::string>& genes) {
  std::unordered_map<std::string, std::vector<int64_t>> idx;
  for (size_t i = 0; i < genes.size(); ++i) {
    const std::string u = upper(genes[i]);
    idx[u].push_back(static_cast<int64_t>(i));
    const std::string bare = without_genome_prefix(u);
    if (!bare.empty()) idx[bare].push_back(static_cast<int64_t>(i));
  }
  return idx;
}

struct UnionFind {
  std::vector<size_t> parent;
  explicit UnionFind(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  size_t find(size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void unite(size_t a, size_t b) {
    a = find(a);
    b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
};

}  // namespace

std::vector<GeneSet> read_gmt(const std::string& path) {
  std::vector<GeneSet> sets;
  const auto lines = read_lines(path);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (blank(lines[i])) continue;
    auto f = split_tabs(lines[i]);
    if (f.size() < 2)
      throw DataError(path + ": line " + std::to_string(i + 1) + ": expected at least 2 tab-separated fields " +
                      "(id, description, genes...), found " + std::to_string(f.size()));
    if (f[0].empty()) throw DataError(path + ": line " + std::to_string(i + 1) + ": empty gene-set id");
    GeneSet s;
    s.id = f[0];
    s.description = f[1];
    for (size_t k = 2; k < f.size(); ++k)
      if (!f[k].empty()) s.genes.push_back(f[k]);
    sets.push_back(std::move(s));
  }
  return sets;
}

std::vector<ProgenyWeight> read_progeny(const std::string& path) {
  const auto lines = read_lines(path);
  size_t h = 0;
  while (h < lines.size() && blank(lines[h])) ++h;
  if (h == lines.size()) throw DataError(path + ": empty file, expected a header gene, pathway, weight, p.value");
  auto header = split_tabs(lines[h]);
  auto col = [&](const std::string& name) {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name || header[i] == "\"" + name + "\"") return i;
    throw DataError(path + ": line " + std::to_string(h + 1) + ": header has no column '" + name +
                    "' (expected gene, pathway, weight, p.value)");
  };
  const size_t cg = col("gene"), cp = col("pathway"), cw = col("weight"), cv = col("p.value");
  std::vector<ProgenyWeight> out;
  for (size_t i = h + 1; i < lines.size(); ++i) {
    if (blank(lines[i])) continue;
    auto f = split_tabs(lines[i]);
    if (f.size() != header.size())
      throw DataError(path + ": line " + std::to_string(i + 1) + ": " + std::to_string(f.size()) +
                      " fields, expected " + std::to_string(header.size()) + " as in the header");
    ProgenyWeight w;
    w.gene = f[cg];
    w.pathway = f[cp];
    if (w.gene.empty() || w.pathway.empty())
      throw DataError(path + ": line " + std::to_string(i + 1) + ": empty gene or pathway");
    w.weight = parse_number(f[cw], path, i + 1, "weight");
    w.p_value = parse_number(f[cv], path, i + 1, "p.value");
    out.push_back(std::move(w));
  }
  return out;
}

std::vector<GeneSet> progeny_sets(const std::vector<ProgenyWeight>& model) {
  std::vector<GeneSet> sets;
  std::unordered_map<std::string, size_t> at;
  for (const auto& w : model) {
    auto it = at.find(w.pathway);
    if (it == at.end()) {
      it = at.emplace(w.pathway, sets.size()).first;
      sets.push_back(GeneSet{w.pathway, "PROGENy footprint", {}});
    }
    sets[it->second].genes.push_back(w.gene);
  }
  return sets;
}

DenseMatrix progeny_weight_matrix(const std::vector<ProgenyWeight>& model, const std::vector<std::string>& genes,
                                  std::vector<std::string>* pathways) {
  auto sets = progeny_sets(model);
  std::unordered_map<std::string, size_t> pcol;
  for (size_t s = 0; s < sets.size(); ++s) pcol[sets[s].id] = s;
  auto idx = index_genes(genes);
  DenseMatrix w = DenseMatrix::Zero(static_cast<Eigen::Index>(genes.size()), static_cast<Eigen::Index>(sets.size()));
  for (const auto& m : model) {
    auto it = idx.find(upper(m.gene));
    if (it == idx.end()) continue;
    for (int64_t g : it->second) w(g, static_cast<Eigen::Index>(pcol[m.pathway])) = static_cast<float>(m.weight);
  }
  if (pathways) {
    pathways->clear();
    for (auto& s : sets) pathways->push_back(s.id);
  }
  return w;
}

GeneMatch match_genes(const std::vector<std::string>& dataset_genes, const std::vector<GeneSet>& sets) {
  GeneMatch m;
  m.dataset_genes = static_cast<int64_t>(dataset_genes.size());
  auto idx = index_genes(dataset_genes);
  std::vector<uint8_t> covered(dataset_genes.size(), 0);
  std::unordered_set<std::string> all_set_genes, matched_set_genes;
  for (const auto& s : sets) {
    std::unordered_set<std::string> distinct;
    std::vector<int64_t> mem;
    for (const auto& g : s.genes) {
      std::string u = upper(g);
      if (!distinct.insert(u).second) continue;
      all_set_genes.insert(u);
      auto it = idx.find(u);
      if (it == idx.end()) continue;
      matched_set_genes.insert(u);
      for (int64_t d : it->second) {
        mem.push_back(d);
        covered[static_cast<size_t>(d)] = 1;
      }
    }
    std::sort(mem.begin(), mem.end());
    mem.erase(std::unique(mem.begin(), mem.end()), mem.end());
    m.members.push_back(std::move(mem));
    m.set_sizes.push_back(static_cast<int64_t>(distinct.size()));
  }
  m.dataset_genes_matched = std::count(covered.begin(), covered.end(), uint8_t{1});
  m.set_genes = static_cast<int64_t>(all_set_genes.size());
  m.set_genes_matched = static_cast<int64_t>(matched_set_genes.size());
  return m;
}

std::string GeneMatch::summary() const {
  std::ostringstream o;
  o << dataset_genes_matched << " of " << dataset_genes << " dataset genes are in some set; " << set_genes_matched
    << " of " << set_genes << " distinct set genes are in the dataset (" << members.size() << " sets)";
  return o.str();
}

DenseMatrix GeneSetMask::to_dense() const {
  DenseMatrix d(static_cast<Eigen::Index>(n_genes), static_cast<Eigen::Index>(n_sets));
  for (size_t i = 0; i < mask.size(); ++i) d.data()[i] = mask[i];
  return d;
}

namespace {
GeneSetMask mask_from(int64_t n_genes, const std::vector<size_t>& keep, const std::vector<std::string>& ids,
                      const std::vector<std::vector<int64_t>>& members) {
  GeneSetMask m;
  m.n_genes = n_genes;
  m.n_sets = static_cast<int64_t>(keep.size());
  m.mask.assign(static_cast<size_t>(m.n_genes * m.n_sets), 0);
  std::vector<uint8_t> covered(static_cast<size_t>(n_genes), 0);
  for (size_t s = 0; s < keep.size(); ++s) {
    m.set_index.push_back(keep[s]);
    m.set_ids.push_back(ids[s]);
    m.members.push_back(members[s]);
    m.genes_present.push_back(static_cast<int64_t>(members[s].size()));
    for (int64_t g : members[s]) {
      m.mask[static_cast<size_t>(g * m.n_sets) + s] = 1;
      covered[static_cast<size_t>(g)] = 1;
    }
  }
  m.genes_covered = std::count(covered.begin(), covered.end(), uint8_t{1});
  return m;
}
}  // namespace

GeneSetMask build_mask(const std::vector<std::string>& dataset_genes, const std::vector<GeneSet>& sets,
                       const MaskOptions& opt, const std::string& source) {
  GeneMatch match = match_genes(dataset_genes, sets);
  if (match.set_genes_matched == 0) {
    std::string ex_data, ex_set;
    for (size_t i = 0; i < std::min<size_t>(3, dataset_genes.size()); ++i)
      ex_data += (i ? ", " : "") + dataset_genes[i];
    for (const auto& s : sets)
      if (!s.genes.empty()) {
        for (size_t i = 0; i < std::min<size_t>(3, s.genes.size()); ++i) ex_set += (i ? ", " : "") + s.genes[i];
        break;
      }
    throw DataError(source + ": none of the " + std::to_string(match.set_genes) + " genes in " +
                    std::to_string(sets.size()) + " gene sets is among the " + std::to_string(dataset_genes.size()) +
                    " dataset genes (matched by symbol, case-insensitive, genome prefixes like hg19_ ignored; wrong species or "
                    "identifier type?); "
                    "dataset genes look like [" +
                    ex_data + "], set genes like [" + ex_set + "]");
  }
  std::vector<size_t> keep;
  std::vector<std::string> ids;
  std::vector<std::vector<int64_t>> members;
  for (size_t s = 0; s < sets.size(); ++s) {
    const int64_t size = match.set_sizes[s], present = static_cast<int64_t>(match.members[s].size());
    if (size < opt.min_set_size || size > opt.max_set_size || present < opt.min_genes_present) continue;
    keep.push_back(s);
    ids.push_back(sets[s].id);
    members.push_back(std::move(match.members[s]));
  }
  if (keep.empty())
    throw DataError(source + ": no gene set passes the filters (set size in [" + std::to_string(opt.min_set_size) +
                    ", " + std::to_string(opt.max_set_size) + "], at least " + std::to_string(opt.min_genes_present) +
                    " dataset genes present); " + match.summary());
  return mask_from(static_cast<int64_t>(dataset_genes.size()), keep, ids, members);
}

std::vector<size_t> nonredundant_sets(const std::vector<std::vector<int64_t>>& members, double threshold) {
  const size_t n = members.size();
  // Overlaps through an inverted index (gene -> sets): the work is the sum over genes of the
  // squared number of sets holding them, far less than all pairs for real gene-set collections.
  std::unordered_map<int64_t, std::vector<size_t>> sets_of;
  for (size_t s = 0; s < n; ++s)
    for (int64_t g : members[s]) sets_of[g].push_back(s);
  UnionFind uf(n);
  std::vector<int64_t> overlap(n, 0);
  std::vector<size_t> touched;
  for (size_t i = 0; i < n; ++i) {
    touched.clear();
    for (int64_t g : members[i])
      for (size_t j : sets_of[g])
        if (j > i && overlap[j]++ == 0) touched.push_back(j);
    for (size_t j : touched) {
      const double inter = static_cast<double>(overlap[j]);
      const double uni = static_cast<double>(members[i].size() + members[j].size()) - inter;
      if (uni > 0 && inter / uni >= threshold) uf.unite(i, j);
      overlap[j] = 0;
    }
  }
  // Largest set per cluster; ties keep the earlier set.
  std::unordered_map<size_t, size_t> best;
  for (size_t s = 0; s < n; ++s) {
    auto [it, fresh] = best.emplace(uf.find(s), s);
    if (!fresh && members[s].size() > members[it->second].size()) it->second = s;
  }
  std::vector<size_t> keep;
  for (auto& [root, s] : best) keep.push_back(s);
  std::sort(keep.begin(), keep.end());
  return keep;
}

GeneSetMask drop_redundant(const GeneSetMask& mask, double threshold) {
  auto keep = nonredundant_sets(mask.members, threshold);
  std::vector<size_t> index;
  std::vector<std::string> ids;
  std::vector<std::vector<int64_t>> members;
  for (size_t k : keep) {
    index.push_back(mask.set_index[k]);
    ids.push_back(mask.set_ids[k]);
    members.push_back(mask.members[k]);
  }
  return mask_from(mask.n_genes, index, ids, members);
}

}  // namespace cg::omics
