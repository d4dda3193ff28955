#pragma once
// The encodings a study compares, registered once by name: how a cell becomes a vector, which
// similarity compares two of them, and what the encoding loses on the way.
#include <cstdint>
#include <string>
#include <vector>

#include "omics/matrix.h"

namespace cg::encoding {

struct CellData;
struct Config;

struct Encoded {
  omics::DenseMatrix features;  // cells x D: what the similarity compares
  bool gene_columns = true;     // features are per gene (the DEG question applies)
  bool center = true;           // Pearson (true) or cosine (false) of the rows
  // What is lost, per cell means; NaN where it does not apply.
  double bottom_tied_share = NAN;  // share of genes tied at the lowest value (zeros, unlisted genes)
  double tied_listed = NAN;        // listed genes sharing their value with another (order arbitrary)
  double log10_orderings = NAN;    // log10 of the orderings fixed arbitrarily among equal values
  std::vector<double> value_r2;    // per cell: how well the values come back (see value_recovery)
  std::string value_recovery;      // how they were recovered
  std::vector<std::string> notes;  // said once per run
};

struct EncodingEntry {
  std::string name;
  std::string description;
  std::string similarity;  // "Spearman", "Pearson", "cosine"
  Encoded (*build)(const CellData& d, const Config& c);
};

const std::vector<EncodingEntry>& encoding_registry();
// The entry, or an error naming the unknown encoding and listing the known ones.
const EncodingEntry& encoding_named(const std::string& name);
// " name: description" lines for --help.
std::string encodings_help();

}  // namespace cg::encoding
