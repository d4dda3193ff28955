#pragma once
// Settings of an analyze_encoding run. A JSON file (--config) may hold any of them under the same
// names with underscores ("label_key"); flags override it; the resolved settings are written to
// the run folder as config.json.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/common/settings.h"

namespace cg::encoding {

struct Config {
  std::vector<std::string> data;  // .h5ad files; their cells are pooled (genes matched by name)
  std::string layer;              // "": X
  std::string label_key;          // obs column with the cell type (required)
  std::string batch_key;          // optional: batch mixing within each type
  std::string condition_key;      // optional: the DEG rank-vs-value question
  std::string control = "control";
  std::string stimulated = "stimulated";
  std::vector<std::string> encodings = {"log1p", "pca", "rank", "rank-top100", "bins"};
  int neighbors = 15;     // k of the kNN measures
  int pca_components = 50;
  int rank_length = 2048;  // Geneformer's input length
  int top_genes = 100;     // cell2sentence's sentence length (rank-top100)
  int bins = 51;           // scGPT's bins (bin 0 holds the zeros)
  int top_degs = 100;      // DEGs per cell type for the condition question
  int outliers = 5;        // pairs per kind and encoding in outliers.md
  int64_t max_cells = 0;   // > 0: a random subsample of this many cells (seeded)
  int64_t block = 2048;    // rows per similarity tile (memory ~ block^2 floats)
  uint64_t seed = 0;
  std::string device = "auto";  // cpu or auto: the similarity GEMMs run on the CPU
  std::string out;
  bool overwrite = false;

  void validate() const;  // throws cg::Error naming the setting
};

CG_DECLARE_SETTINGS_FUNCTIONS(Config)

}  // namespace cg::encoding
