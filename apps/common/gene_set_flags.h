#pragma once
// The pathway-layer flags both apps take with one meaning: --heads, --embed and the NetActivity
// selection of gene sets (--min-set-size, --max-set-size, --min-genes-present, --redundancy).
// --encoder, --gene-sets and --mask are each app's own (per modality in train_multitask; lists in
// predict_perturbation's benchmark). `Settings` is an app's config with those fields.
// Also how an app's config becomes the shared GeneEncoderSettings for them.
#include <CLI/CLI.hpp>
#include <string>

#include "apps/common/gene_set_selection.h"

namespace cg::apps {

// `genes_in`: where the genes present are counted, as --help says it ("the data", "the modality").
template <class Settings> void add_gene_set_selection_flags(CLI::App& app, Settings& c, const std::string& genes_in) {
  app.add_option("--heads", c.heads, "pathway-attention: attention heads");
  app.add_option("--embed", c.embed, "pathway-attention: embedding width (divisible by --heads)");
  app.add_option("--min-set-size", c.min_set_size, "gene sets: at least this many genes listed in the file");
  app.add_option("--max-set-size", c.max_set_size, "gene sets: at most this many genes listed (0: no bound)");
  app.add_option("--min-genes-present", c.min_genes_present, "gene sets: at least this many genes in " + genes_in);
  app.add_option("--redundancy", c.redundancy,
                 "gene sets: merge sets with Jaccard similarity >= this, keeping the largest (1: only identical "
                 "sets; NetActivity uses 0.5)");
}

// The settings those flags (and --mask) set, read from an app's config into the shared form; the
// encoder kind, gene-set file and flag names are each app's to fill.
template <class Settings> GeneEncoderSettings shared_gene_encoder_settings(const Settings& c) {
  GeneEncoderSettings s;
  s.mask = c.mask;
  s.heads = c.heads;
  s.embed = c.embed;
  s.min_set_size = c.min_set_size;
  s.max_set_size = c.max_set_size;
  s.min_genes_present = c.min_genes_present;
  s.redundancy = c.redundancy;
  return s;
}

}  // namespace cg::apps
