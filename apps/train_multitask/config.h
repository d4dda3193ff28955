#pragma once
// Settings of a train_multitask run. A JSON file (--config) may hold any of them under the same
// names with underscores ("label_key", "weight_translation"); flags given on the command line
// override it; the resolved settings are written to the run folder as config.json.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/common/gene_set_selection.h"
#include "apps/common/settings.h"

namespace CLI {
class App;
}

namespace cg::multitask {

struct Config {
  // ---- inputs
  std::vector<std::string> modalities;    // "NAME=FILE.h5ad", at least two
  std::vector<std::string> preprocess;    // "NAME=none|log1p|clr|tfidf|standardize|rank|rank-top100|bins"
  std::vector<std::string> distance;      // "NAME=mse|bce|nb|zinb" (default mse; likelihoods.h)
  std::vector<std::string> top_features;  // "NAME=N": keep the N most variable features (training cells)
  std::vector<std::string> layer;         // "NAME=LAYER": read that layer of the modality's file instead of X
  std::vector<std::string> use_raw;       // NAMEs whose .raw (raw/X, raw/var) is read instead of X
  std::string label_key;                  // obs column: classification task (optional)
  std::string condition_key;              // obs column: FiLM-conditioned decoders (optional)
  std::string zero_variance = "drop";     // features constant on the training cells: drop | error

  // ---- splits
  double test_fraction = 0.2;
  int folds = 0;  // > 0: K-fold cross-validation instead of test_fraction
  int fold = -1;  // which fold is the test set; -1: every fold in turn
  double validation_fraction = 0.15;

  // ---- model
  // unitednet | mlp | scbutterfly (model_registry.h); a model's own defaults replace the settings
  // below that the user did not give (config.json records the values used).
  std::string model = "unitednet";
  double dropout = 0;       // hidden-layer dropout (mlp, scbutterfly; unitednet has none)
  int pretrain_epochs = 100;  // scbutterfly: epochs of the per-modality VAE pretraining
  std::vector<int64_t> hidden = {64, 64};  // encoder hidden widths (decoders mirror them)
  int64_t latent = 64;
  int64_t projector = 100;
  bool vae = false;
  int kl_warmup = 50;  // epochs over which the KL weight ramps from 0 to 1
  double temperature = 0.1;
  bool no_classifier = false, no_translation = false, no_reconstruction = false;
  bool no_discriminator = false, no_contrastive = false;
  // How each modality's encoder reads its features (apps/common/gene_set_selection.h):
  // "NAME=mlp|masked-linear|pathway-attention" (default mlp), the pathway encoders with a GMT
  // file "NAME=FILE.gmt" matched to the modality's feature names; the rest applies to every
  // pathway encoder: the attention's mask, heads and width, and the NetActivity-style selection.
  std::vector<std::string> encoder;
  std::vector<std::string> gene_sets;
  std::string mask = "hard";
  int64_t heads = 4, embed = 32;
  int64_t min_set_size = 0, max_set_size = 0, min_genes_present = 5;
  double redundancy = 1.0;

  // ---- loss weights (UnitedNet's defaults)
  double weight_reconstruction = 1, weight_translation = 1, weight_discriminator = 0.1, weight_generator = 0.1;
  double weight_classification = 1, weight_contrastive = 1, weight_kl = 0.01;

  // ---- baselines (scored on the same split, preprocessing and metrics as the model)
  // Names from the baseline registry (apps/train_multitask/baselines.h), or "none".
  std::vector<std::string> baselines = {"mean", "peak_frequency", "ridge_pca", "knn_pca"};
  // Principal components of the source tried by ridge_pca and knn_pca; empty: 10, 20, 50, 100,
  // those below the training cells and the source's features. Given: each must be below the
  // training cells of every split (an error otherwise).
  std::vector<int64_t> baseline_components;
  std::vector<double> ridge_alphas = {0.01, 0.1, 1, 10, 100, 1000, 10000, 100000};
  std::vector<int64_t> knn_k = {1, 3, 5, 10, 20, 50};  // values above the training cells are left out
  // "NAME=feat1,feat2": control features of a modality (isotype / blank antibodies), excluded
  // from that modality's translation means and scored on their own; without it, the file's
  // uns['control_features'] when present.
  std::vector<std::string> control_features;

  // ---- training
  std::string schedule = "alternating";  // alternating | finetune | joint
  std::string weighting = "fixed";       // fixed | uncertainty | dwa | gradnorm | pcgrad
  int epochs = 300;
  int patience = 40;
  // Which validation terms drive early stopping and the best checkpoint: "sum" (reconstruction +
  // translation + classification, weighted as in training), "translation" (reconstruction +
  // translation) or "classification". A set with no active term falls back to "sum".
  // Default "translation", as measured: on sci-CAR the classifier's validation cross-entropy
  // rises from epoch 3 (over-confidence) while translation still improves, and "sum" kept an
  // epoch-3 model (accuracy 0.894, RNA->ATAC AUROC/cell 0.533) where "translation" stopped at
  // epoch 57 (0.928, 0.636); on Patch-seq (5 folds) the two agree within 0.01 on every metric.
  std::string select_on = "translation";
  int batch_size = 512;
  double lr = 0.01;                   // UnitedNet's; on Patch-seq it beat 0.003 (accuracy 0.86 vs 0.80, fewer epochs)
  std::vector<std::string> ablation;  // variant names; empty: a single run
  int attributions = 0;               // > 0: integrated-gradients attributions, top N features per output
  int attribution_cells = 100;        // held-out cells used for attributions
  int attribution_steps = 32;         // integrated-gradients path steps (midpoint rule)
  // Which outputs get attributions: modality names (every direction into that modality) and/or
  // "classifier"; empty: all. A wide target (19,521 genes) costs one backward per output.
  std::vector<std::string> attribution_targets;

  uint64_t seed = 0;
  // > 0: the whole training state is saved every N epochs into "<out>.checkpoints/", so an
  // interrupted run continues with --resume OUT (bit for bit on the CPU).
  int checkpoint_every = 0;
  // Not stored settings: decisions of one invocation.
  std::string resume;             // --resume OUT: continue the interrupted run into OUT
  std::string checkpoint_folder;  // set by the app: "<out>.checkpoints" when checkpointing
  std::string device = "auto";
  bool profile = false;  // print op time totals of one training epoch (not stored)
  bool deterministic = false;  // CUDA: no atomics, the CPU's summation order (not stored)
  std::string out;
  // Also write the model folder (of the first split) here, on its own, for `predict --model`;
  // every single run writes its model(s) into <out>/model/ anyway.
  std::string save_model;
  bool overwrite = false;

  void validate() const;  // throws cg::Error naming the setting
};

// to_json, resolved_json, merge_json, load_config_files (--overwrite is never stored).
CG_DECLARE_SETTINGS_FUNCTIONS(Config)
// Registers every setting as a --kebab-case flag on `app` (bound to `c`).
void add_flags(CLI::App& app, Config& c);

// Where a modality's matrix comes from: X, a layer (--layer NAME=LAYER) or .raw (--use-raw NAME).
struct MatrixSource {
  std::string layer;
  bool use_raw = false;
};
MatrixSource matrix_source(const std::vector<std::string>& layer, const std::vector<std::string>& use_raw,
                           const std::string& modality);
// Every --layer and --use-raw entry names a given modality, and none is in both.
void check_matrix_sources(const std::vector<std::string>& layer, const std::vector<std::string>& use_raw,
                          const std::map<std::string, std::string>& modalities);

// The gene-encoder settings of modality `name` (its --encoder and --gene-sets entries, mlp
// without one).
apps::GeneEncoderSettings gene_encoder_settings(const Config& c, const std::string& name);

// "NAME=VALUE" entries as a map; throws naming the flag on a malformed or repeated entry.
std::map<std::string, std::string> parse_assignments(const std::vector<std::string>& entries, const std::string& flag);

// The FILE part of every "NAME=FILE" entry made absolute (resolved config.json), or read as
// relative to a config file's folder.
void absolute_modality_paths(std::vector<std::string>& entries);
void modality_paths_under(const std::string& folder, std::vector<std::string>& entries);

}  // namespace cg::multitask
