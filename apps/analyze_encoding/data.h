#pragma once
// The cells an encoding study looks at: one or more .h5ad files pooled (genes matched by name),
// optionally subsampled, with their labels, batches and conditions, as normalised values (the
// rank encodings' input) and their log1p (the baseline). Cells with no nonzero value and cells
// without a label are left out with a note.
#include <cstdint>
#include <string>
#include <vector>

#include "apps/analyze_encoding/config.h"
#include "omics/matrix.h"

namespace cg::encoding {

struct Codes {
  std::vector<int> code;           // per cell, an index into names
  std::vector<std::string> names;  // natural order
};

struct CellData {
  std::string source;  // for messages: the file(s) and matrix
  std::vector<std::string> cells, genes;
  omics::CsrMatrix normalized;  // per cell summing to 1e4 (counts input), or expm1 of log input
  omics::CsrMatrix log;         // log1p(normalized): the log1p baseline
  bool input_was_log = false;
  Codes labels, batches;        // batches empty without --batch-key
  std::vector<int> condition;   // with --condition-key: 0 control, 1 stimulated, -1 other
  int64_t cells_read = 0, empty_cells = 0, unlabelled_cells = 0;
};

// Reads, checks and prepares the cells. Errors (one line each): a missing file, layer or obs
// column; negative or non-finite values; a batch key with one batch; a condition key without
// the control or stimulated value; fewer than 3 cells left.
CellData load_cells(const Config& c);

}  // namespace cg::encoding
