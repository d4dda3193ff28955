#pragma once
// Rank-value encodings as a model's numeric input. analyze_encoding asks what the encodings keep;
// the apps' --preprocess rank|rank-top100|bins feeds them to a network, which needs a number per
// gene, not a token list. The numbers:
//  - rank / rank-top100: a listed gene at position r (1-based, highest first) of a cell's list
//    of length at most K gets 1 - (r - 1) / K, every other gene 0. So the top gene is 1 in every
//    cell, a gene's input falls linearly with its rank, and a gene just outside the list is
//    nearest to 0: Geneformer's order (K = 2048) or cell2sentence's top 100 (K = 100) as a
//    decreasing function of rank. Genes with equal values share the mean of their positions:
//    which of them comes first is arbitrary (the tokenizers break the tie by gene index), and a
//    network given numbers would learn that accident.
//  - bins: scGPT's per-cell quantile bin (omics::quantile_bins, 51 bins) divided by 50, so the
//    top bin is 1 and zeros stay 0.
// Only `rank` learns something from data: each gene's median over the training cells where it is
// nonzero (fit on the training cells only; a model keeps them and applies them to new cells).
// Ranks and quantile bins within a cell do not change under any increasing per-cell transform,
// so counts, normalised counts and log1p values give the same encoding, except for `rank`, whose
// division by the gene's median needs values on the normalised linear scale: counts are
// normalised to 10,000 per cell (as Geneformer does), log1p values are brought back by expm1.
#include <cstdint>
#include <string>
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

struct InputEncodingEntry {
  std::string name;
  std::string description;
  int64_t list_length = 0;  // rank encodings: K, the longest list kept
  int n_bins = 0;           // bins: how many (bin 0 holds the zeros)
};
// rank, rank-top100, bins.
const std::vector<InputEncodingEntry>& input_encodings();
bool is_input_encoding(const std::string& name);
// The entry, or an error "<what> '<name>' (expected one of: ...)".
const InputEncodingEntry& input_encoding_named(const std::string& name, const std::string& what);

// What an encoding learned on the training cells: everything apply needs.
struct InputEncoding {
  std::string name;              // an input_encodings() name
  bool log_input = false;        // rank: the values are log1p (ranked after expm1), else counts or linear
  std::vector<double> medians;   // rank: per gene, over the training cells where it is nonzero; 0: never seen
};

// Fits `name` on the training cells `train` (cells x genes). `log_input` says whether the values
// are log1p of normalised counts (only `rank` uses it). Negative values are an error naming `what`.
InputEncoding fit_input_encoding(const std::string& name, const CsrMatrix& train, bool log_input,
                                 const std::string& what);

struct EncodedCells {
  CsrMatrix x;                      // cells x genes, the model's input values (see above), zeros implicit
  std::vector<int64_t> empty_cells; // rows with no listed gene: nothing to rank, so all zeros
};
// Encodes every cell of `x` (whose columns are the genes the encoding was fitted on). Negative or
// non-finite values are errors naming `what`.
EncodedCells apply_input_encoding(const InputEncoding& e, const CsrMatrix& x, const std::string& what);

// The first few of `rows`, for a message: "'cellA', 'cellB', ..." by `cell_names` when it names
// them, else "row 3, row 17, ..." (0-based).
std::string describe_cells(const std::vector<int64_t>& rows, const std::vector<std::string>& cell_names);

}  // namespace cg::omics
