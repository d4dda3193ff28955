#include "apps/analyze_encoding/config.h"

#include <set>

#include "apps/analyze_encoding/encodings.h"
#include "apps/common/app_cli.h"
#include "autograd/error.h"

namespace cg::encoding {

void Config::validate() const {
  auto fail = [](const std::string& m) { throw Error(m); };
  if (data.empty()) fail("--data: at least one .h5ad file is required");
  if (label_key.empty()) fail("--label-key: the obs column with the cell type is required");
  if (out.empty()) fail("--out: an output folder is required");
  if (encodings.empty()) fail("--encodings: at least one encoding is required");
  std::set<std::string> listed;
  for (const auto& e : encodings) {
    encoding_named(e);  // throws naming the unknown encoding and the known ones
    if (!listed.insert(e).second) fail("--encodings: '" + e + "' is listed twice");
  }
  if (neighbors < 1) fail("--neighbors: expected at least 1, found " + std::to_string(neighbors));
  if (pca_components < 2) fail("--pca-components: expected at least 2, found " + std::to_string(pca_components));
  if (rank_length < 1) fail("--rank-length: expected at least 1, found " + std::to_string(rank_length));
  if (top_genes < 1) fail("--top-genes: expected at least 1, found " + std::to_string(top_genes));
  if (bins < 3) fail("--bins: expected at least 3 (bin 0 holds the zeros), found " + std::to_string(bins));
  if (top_degs < 1) fail("--top-degs: expected at least 1, found " + std::to_string(top_degs));
  if (outliers < 0) fail("--outliers: expected 0 or more, found " + std::to_string(outliers));
  if (max_cells < 0) fail("--max-cells: expected 0 (every cell) or a count, found " + std::to_string(max_cells));
  if (block < 16) fail("--block: expected at least 16 rows, found " + std::to_string(block));
  if (!condition_key.empty() && control == stimulated)
    fail("--control and --stimulated name the same value '" + control + "'");
  if (device == "cuda")
    fail("--device cuda: analyze_encoding runs on the CPU (its similarity tiles go through the CPU GEMM); use cpu "
         "or auto");
  if (device != "auto" && device != "cpu") fail("--device: expected cpu or auto, found '" + device + "'");
  if (!batch_key.empty() && batch_key == label_key)
    fail("--batch-key is the label key '" + label_key + "'; batch mixing within a type needs another column");
}

#define CG_ENCODING_SETTINGS(X)                                                                                   \
  X(data)                                                                                                         \
  X(layer)                                                                                                        \
  X(label_key)                                                                                                    \
  X(batch_key)                                                                                                    \
  X(condition_key)                                                                                                \
  X(control) X(stimulated) X(encodings) X(neighbors) X(pca_components) X(rank_length) X(top_genes) X(bins)      \
      X(top_degs) X(outliers) X(max_cells) X(block) X(seed) X(device) X(out)

CG_DEFINE_SETTINGS_JSON(Config, CG_ENCODING_SETTINGS)

nlohmann::json resolved_json(const Config& c) {
  Config r = c;
  for (auto& d : r.data) d = apps::absolute_path(d);
  r.out = apps::absolute_path(r.out);
  return to_json(r);
}

void load_config_files(int argc, char** argv, Config& c) {
  for (const auto& file : apps::read_config_files(argc, argv)) {
    merge_json(c, file.settings, file.source);
    if (file.settings.contains("data"))
      for (auto& d : c.data) d = apps::path_under(file.folder, d);
    if (file.settings.contains("out")) c.out = apps::path_under(file.folder, c.out);
  }
}

}  // namespace cg::encoding
