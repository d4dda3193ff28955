#pragma once
// Gene sets for pathway-structured models: GMT and PROGENy readers, matching of set genes to a
// dataset's genes (symbols, case-insensitive), the genes x sets membership mask, and the
// NetActivity-style removal of redundant sets.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

struct GeneSet {
  std::string id;           // GMT field 1 (GO id, MSigDB name; Reactome files put the name here)
  std::string description;  // GMT field 2
  std::vector<std::string> genes;
};

// Tab-separated: id, description, genes... Blank lines and CRLF endings are tolerated, empty gene
// fields (trailing tabs) ignored. DataError naming the file and line for a line with fewer than
// two fields or an empty id, and for a missing or unreadable file.
std::vector<GeneSet> read_gmt(const std::string& path);

struct ProgenyWeight {
  std::string gene, pathway;
  double weight = 0, p_value = 1;
};
// PROGENy model table with a header naming (in any order) gene, pathway, weight, p.value.
std::vector<ProgenyWeight> read_progeny(const std::string& path);
// One set per pathway (in order of first appearance), genes in file order.
std::vector<GeneSet> progeny_sets(const std::vector<ProgenyWeight>& model);
// genes x pathways weights for a dataset's genes (0 where a gene has no weight); matching is by
// symbol, case-insensitive, like match_genes. `pathways` receives the column names.
DenseMatrix progeny_weight_matrix(const std::vector<ProgenyWeight>& model, const std::vector<std::string>& genes,
                                  std::vector<std::string>* pathways);

struct GeneMatch {
  // Per set: the dataset gene indices (columns of X) of its genes, sorted, no repeats. A set
  // gene matches every dataset gene with the same upper-cased symbol.
  std::vector<std::vector<int64_t>> members;
  std::vector<int64_t> set_sizes;     // distinct genes listed per set (before matching)
  int64_t dataset_genes = 0;          // genes in the dataset
  int64_t dataset_genes_matched = 0;  // dataset genes in at least one set
  int64_t set_genes = 0;              // distinct genes over all sets
  int64_t set_genes_matched = 0;      // of those, found in the dataset
  std::string summary() const;        // "4750 of 6998 dataset genes are in some set; ..."
};
GeneMatch match_genes(const std::vector<std::string>& dataset_genes, const std::vector<GeneSet>& sets);

struct MaskOptions {
  int64_t min_set_size = 0;  // on the set's size as listed in the file
  int64_t max_set_size = std::numeric_limits<int64_t>::max();
  int64_t min_genes_present = 1;  // dataset genes in the set
};

// Binary membership: mask[g * n_sets + s] = 1 when dataset gene g belongs to kept set s.
struct GeneSetMask {
  int64_t n_genes = 0, n_sets = 0;
  std::vector<uint8_t> mask;
  std::vector<size_t> set_index;  // position of each kept set in the input list
  std::vector<std::string> set_ids;
  std::vector<int64_t> genes_present;         // per kept set
  std::vector<std::vector<int64_t>> members;  // per kept set, dataset gene indices
  int64_t genes_covered = 0;                  // dataset genes in at least one kept set

  uint8_t at(int64_t gene, int64_t set) const { return mask[static_cast<size_t>(gene * n_sets + set)]; }
  DenseMatrix to_dense() const;  // genes x sets of 0/1
};

// `source` names the gene-set file in errors. DataError when no set gene is in the dataset at
// all (wrong species or identifier type), or when no set passes the filters.
GeneSetMask build_mask(const std::vector<std::string>& dataset_genes, const std::vector<GeneSet>& sets,
                       const MaskOptions& opt, const std::string& source);

// Which sets to keep so that no two kept sets are near-duplicates. Sets whose Jaccard similarity
// (|A and B| / |A or B|, on the given members) is >= threshold are linked, clusters are the
// connected components of those links (single linkage, via union-find: a chain A~B~C puts A and C
// together even when they are not similar themselves), and each cluster keeps its largest set
// (ties: the earlier one). Sets that share no gene are never linked, whatever the threshold.
// Returns the kept positions in ascending order.
std::vector<size_t> nonredundant_sets(const std::vector<std::vector<int64_t>>& members, double threshold = 0.5);
// The mask restricted to nonredundant_sets(mask.members, threshold).
GeneSetMask drop_redundant(const GeneSetMask& mask, double threshold = 0.5);

}  // namespace cg::omics
