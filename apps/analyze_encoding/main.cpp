// analyze_encoding: does a rank-value encoding keep cell identity, soften batch effects, and
// what does it lose? Compares log1p, PCA, Geneformer ranks, cell2sentence top-100 and scGPT bins
// on the same cells with one table.
//   analyze_encoding --data F.h5ad --label-key cell_type [--batch-key B] [--condition-key C] --out D
#include <CLI/CLI.hpp>
#include <cstdio>

#include "apps/analyze_encoding/config.h"
#include "apps/analyze_encoding/data.h"
#include "apps/analyze_encoding/deg_question.h"
#include "apps/analyze_encoding/encodings.h"
#include "apps/analyze_encoding/report.h"
#include "apps/analyze_encoding/study.h"
#include "apps/common/app_cli.h"
#include "apps/common/app_main.h"
#include "apps/common/run_folder.h"
#include "apps/common/run_notes.h"
#include "base/version.h"
#include "nn/progress.h"

using namespace cg;
using namespace cg::encoding;

namespace {

void add_flags(CLI::App& app, Config& c, std::string& config_file) {
  app.add_option("--config", config_file, "JSON file with settings (flags override it)");
  app.add_option("--data", c.data, ".h5ad file(s), repeated or comma-separated; cells are pooled, genes matched by name")
      ->delimiter(',');
  app.add_option("--layer", c.layer, "read this layer instead of X (counts or log-normalised values)");
  app.add_option("--label-key", c.label_key, "obs column with the cell type (required)");
  app.add_option("--batch-key", c.batch_key, "obs column with the batch: batch mixing within each type");
  app.add_option("--condition-key", c.condition_key,
                 "obs column with the condition: how many top DEGs per type change rank vs value");
  app.add_option("--control", c.control, "control value of --condition-key");
  app.add_option("--stimulated", c.stimulated, "perturbed value of --condition-key");
  app.add_option("--encodings", c.encodings, "comma-separated:" + encodings_help())->delimiter(',');
  app.add_option("--neighbors", c.neighbors, "k of the kNN measures");
  app.add_option("--pca-components", c.pca_components, "components of the pca encoding");
  app.add_option("--rank-length", c.rank_length, "genes kept per cell by the rank encoding (Geneformer: 2048)");
  app.add_option("--top-genes", c.top_genes, "genes kept per cell by rank-top100 (cell2sentence: 100)");
  app.add_option("--bins", c.bins, "bins of the bins encoding, bin 0 for zeros (scGPT: 51)");
  app.add_option("--top-degs", c.top_degs, "top DEGs per cell type for the condition question");
  app.add_option("--outliers", c.outliers, "outlier pairs per kind and encoding");
  app.add_option("--max-cells", c.max_cells, "analyse a random subsample of this many cells (seeded; 0: all)");
  app.add_option("--block", c.block, "rows per similarity tile (memory ~ 4 block^2 bytes)");
  app.add_option("--seed", c.seed, "seed of the subsample")->check(CLI::NonNegativeNumber);
  app.add_option("--device", c.device, "cpu or auto (the similarities run on the CPU)");
  app.add_option("--out", c.out, "output folder (refused if it holds a run, unless --overwrite)");
  app.add_flag("--overwrite", c.overwrite, "replace an earlier run in --out");
}

int run(int argc, char** argv) {
  Config c;
  std::string config_file;
  CLI::App app{"Measure what rank-value encodings of cells keep and lose (cell identity, batch, values)"};
  add_flags(app, c, config_file);
  if (const auto done = apps::parse_command_line(app, argc, argv, [&] { load_config_files(argc, argv, c); }))
    return *done;
  c.validate();
  apps::RunFolder run(c.out, c.overwrite, c.data);
  CellData d = load_cells(c);
  if (nn::verbosity() != nn::Verbosity::Quiet)
    std::fprintf(stderr, "[analyze_encoding] %zu cells, %zu genes, %zu types from %s\n", d.cells.size(),
                 d.genes.size(), d.labels.names.size(), d.source.c_str());
  std::vector<TypeDegs> degs;
  if (!c.condition_key.empty()) degs = top_degs_per_type(d, c.top_degs);
  std::vector<EncodingResult> results;
  for (size_t i = 0; i < c.encodings.size(); ++i)
    results.push_back(study_encoding(encoding_named(c.encodings[i]), d, c, degs,
                                     "encoding " + std::to_string(i + 1) + "/" + std::to_string(c.encodings.size())));

  nlohmann::json header;
  header["version"] = CELLGRAD_VERSION;
  header["source"] = d.source;
  header["cells"] = d.cells.size();
  header["cells_read"] = d.cells_read;
  header["cells_without_nonzero"] = d.empty_cells;
  header["cells_without_label"] = d.unlabelled_cells;
  header["genes"] = d.genes.size();
  header["input"] = d.input_was_log ? "log-normalised (used as it is)" : "counts (normalize_total 1e4, log1p)";
  for (size_t t = 0; t < d.labels.names.size(); ++t) {
    int64_t n = 0;
    for (int code : d.labels.code) n += code == static_cast<int>(t);
    header["types"][d.labels.names[t]] = n;
  }
  if (!d.batches.code.empty()) header["batches"] = d.batches.names;
  if (!degs.empty()) {
    header["deg_question"] = {{"condition_key", c.condition_key}, {"control", c.control},
                              {"stimulated", c.stimulated}, {"top_degs", c.top_degs},
                              {"rule", "top DEGs by |Wilcoxon z| of log1p, stimulated vs control, per type; a DEG "
                                       "changes in an encoding when a Wilcoxon test of its encoded values between "
                                       "the conditions has BH-adjusted p < 0.05 (BH over the type's DEGs)"}};
  }
  apps::write_text_file(run.path("config.json"), resolved_json(c).dump(1) + "\n");
  write_outputs(run, c, d, results, header);
  apps::write_run_notes(run);
  run.commit();
  std::printf("%s", table_markdown(results, d).c_str());
  if (nn::verbosity() != nn::Verbosity::Quiet) std::fprintf(stderr, "[analyze_encoding] wrote %s\n", c.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return apps::run_app("analyze_encoding", [&] { return run(argc, argv); });
}
