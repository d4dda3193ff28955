#pragma once
// Settings of a predict_perturbation run. A JSON file (--config) may hold any of them under the
// same names with underscores (e.g. "cell_type_key"); flags given on the command line override
// it; the resolved settings are written to the run folder as config.json.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "apps/common/settings.h"

namespace cg::perturb {

struct Config {
  std::string data;
  // How the expression matrix is read (apps/common/expression_input.h).
  std::string layer;                // "": X
  bool use_raw = false;             // raw/X (what scanpy keeps before scaling)
  // none | log1p (normalize_total 1e4, then log1p) | rank | rank-top100 | bins (the rank-value
  // encodings: every cell encoded, models trained and scored in that space; encoded_input.h)
  std::string preprocess = "none";
  bool allow_counts = false;        // accept integer counts as they are (a warning)
  int n_top_genes = 0;              // > 0: Seurat-flavour HVGs on the training cells
  std::string condition_key = "condition";
  std::string control = "control";
  std::vector<std::string> perturbed;  // empty: every value of condition_key other than control
  std::string cell_type_key = "cell_type";
  std::string held_out = "all";  // a cell type, or "all" for the leave-one-out sweep
  // The dose case: condition_key holds numeric doses; every cell of this dose is held out and
  // predicted from the controls by the models that interpolate doses (dose_command.cpp).
  std::optional<double> held_out_dose;
  std::vector<std::string> models = {"scgen", "mtae", "control", "shift"};
  std::vector<uint64_t> seeds = {0, 1, 2};  // benchmark: each (type, model) is scored per seed; the table shows mean and sd
  // Training settings. Each network trains with its own published recipe (recipe.h,
  // model_registry.cpp); a flag given here replaces that value for every chosen network that
  // takes it. Unset (null in JSON): each network's own.
  std::optional<int> epochs, patience, batch_size, warmup_steps;
  std::optional<int64_t> latent;
  std::optional<double> lr, dropout, input_dropout, alpha, adversarial;
  // Per-network settings, {"mtae": {"lr": 1e-4}}, applied before the flags. A run's config.json
  // holds here the resolved recipe of every network it trained.
  nlohmann::json model_settings = nlohmann::json::object();
  // Train every network once per rate of its declared grid (NetworkEntry::lr_grid) and keep the
  // one with the lowest validation loss (lr_search.h). Off by default: it multiplies training time.
  bool search_lr = false;
  // > 0: every network (scgen, the MTAe family) adds this weight times the MMD (RBF, five
  // bandwidths) between its predicted and the observed perturbed cells of each training
  // minibatch (TrainSettings::mmd_weight, trainer.h). 0: off, training exactly as without it.
  double mmd_weight = 0;
  // How the networks read the genes (GeneEncoderSpec, apps/common/perturbation_models.h):
  // mlp (the published network) | masked-linear | pathway-attention; the last two need gene_sets.
  std::string encoder = "mlp";
  // A GMT file. Selects the sets the pathway encoders use and, for any model, the per-pathway
  // comparison of real and predicted responses (pathways_<type>.csv/.md in the benchmark).
  std::string gene_sets;
  std::string mask = "hard";  // pathway-attention: hard | soft (learned gates, plus coexpressed candidates)
  int64_t heads = 4, embed = 32;  // pathway-attention: heads and embedding width (divisible by heads)
  // NetActivity-style selection (methods.md): set size as listed in the file within [min, max]
  // (max 0: no bound), at least min_genes_present genes in the data, and sets whose Jaccard
  // similarity is >= redundancy merged into the largest (1: only identical sets; NetActivity 0.5).
  int64_t min_set_size = 0, max_set_size = 0, min_genes_present = 5;
  double redundancy = 1.0;
  double validation_fraction = 0.2;
  // Latent models (scgen, vidr, mtae): "direct" predicts Dec(z + delta); "residual" predicts
  // x_ctrl + Dec(z + delta) - Dec(z), so the autoencoder's reconstruction error of the controls is
  // not counted as a predicted change. Stored with a saved model, which predicts the same way.
  std::string decode = "direct";
  int top_degs = 100;
  int bootstrap = 100;
  int pca_components = 50;
  // benchmark: held-out types with fewer control or perturbed cells are skipped with a note.
  int min_cells = 10;
  std::string save_model;  // train: also write the model folder here
  // train: > 0 saves the whole training state every N epochs into "<out>.checkpoints/", so an
  // interrupted run continues with `train --resume OUT` (bit for bit on the CPU).
  int checkpoint_every = 0;
  std::string resume;  // not stored: train --resume OUT
  std::string device = "auto";
  std::string out;
  bool overwrite = false;
  bool profile = false;  // print op time totals of one training epoch per network (not stored)
  bool deterministic = false;  // CUDA: no atomics, the CPU's summation order (not stored)

  void validate() const;  // throws cg::Error naming the setting
  // The training flags given (as recipe settings, e.g. {"lr": 1e-4}).
  nlohmann::json given_training_flags() const;
};

// Settings of `predict_perturbation predict`: apply a saved model to the cells of a file.
struct PredictConfig {
  std::string model;                         // the model folder
  std::string data;                          // .h5ad or 10x .h5
  std::vector<std::string> cell_types;       // empty: every type of the file
  std::string to;                            // the perturbed value to predict ("": the model's only one)
  std::string cell_type_key, condition_key;  // "": as the model was trained
  std::string layer;
  bool use_raw = false;
  // "": as the model was trained; none | log1p choose how the file is read (an encoding model
  // encodes it after that with its own fit); an encoding must be the model's own.
  std::string preprocess;
  bool allow_counts = false;
  std::string fill_missing;  // "" (error) | zeros
  std::string device = "auto";
  std::string out;
  bool overwrite = false;

  void validate() const;
};
nlohmann::json to_json(const PredictConfig& c);
nlohmann::json resolved_json(const PredictConfig& c);
void merge_json(PredictConfig& c, const nlohmann::json& j, const std::string& source);

// to_json, resolved_json, merge_json, load_config_files (--overwrite is never stored).
CG_DECLARE_SETTINGS_FUNCTIONS(Config)

}  // namespace cg::perturb
