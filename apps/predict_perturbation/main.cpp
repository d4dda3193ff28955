// predict_perturbation: predict how a cell type responds to a perturbation with scGen, scVIDR,
// the multi-task autoencoder and two baselines.
//   predict_perturbation [benchmark] --data F --out D ...   leave each cell type out, train, score
//   predict_perturbation train --data F --model scgen --out D   fit on every cell, save model/
//   predict_perturbation predict --model D/model --data G --cell-type T --out E
#include <CLI/CLI.hpp>

#include "apps/common/app_cli.h"
#include "apps/common/app_main.h"
#include "apps/common/gene_set_flags.h"
#include "apps/common/checkpoint_folder.h"
#include "apps/predict_perturbation/commands.h"
#include "apps/predict_perturbation/config.h"
#include "apps/predict_perturbation/model_registry.h"
#include "autograd/error.h"

using namespace cg;
using namespace cg::perturb;

namespace {

// The settings benchmark and train share, on the top-level app (so a bare call is benchmark).
void add_training_flags(CLI::App& app, Config& c, std::string& config_file, int64_t& single_seed) {
  app.add_option("--config", config_file, "JSON file with settings (flags override it)");
  app.add_option("--data", c.data, "AnnData .h5ad (or 10x .h5) with log-normalised expression");
  app.add_option("--layer", c.layer, "read this layer instead of X");
  app.add_flag("--use-raw", c.use_raw, "read .raw (scanpy's log data before scaling) instead of X");
  app.add_option("--preprocess", c.preprocess,
                 "none, log1p: normalize_total 1e4 then log1p (for counts); rank, rank-top100, bins: the rank-value "
                 "encodings (Geneformer ranks over training-cell gene medians, 1 - (rank - 1) / 2048; cell2sentence "
                 "top 100, 1 - (rank - 1) / 100; scGPT's 51 bins / 50) of the log-normalised cells, counts "
                 "normalised first: models train, predict and are scored in the encoded space");
  app.add_flag("--allow-counts", c.allow_counts, "use integer counts as they are (not recommended)");
  app.add_option("--n-top-genes", c.n_top_genes, "keep the N most variable genes of the training cells (0: all)");
  app.add_option("--condition-key", c.condition_key, "obs column with the condition");
  app.add_option("--control", c.control, "value of the condition column for control cells");
  app.add_option("--perturbed", c.perturbed, "perturbed condition value(s) (default: all non-control values)")
      ->delimiter(',');
  app.add_option("--cell-type-key", c.cell_type_key, "obs column with the cell type");
  app.add_option("--held-out", c.held_out, "benchmark: cell type to hold out, or 'all' for the leave-one-out sweep");
  app.add_option("--held-out-dose", c.held_out_dose,
                 "benchmark: hold out every cell of this dose (--condition-key holds numeric doses) and predict it "
                 "from the controls with the models that interpolate doses");
  app.add_option("--models", c.models, "comma-separated:" + perturb_models_help())->delimiter(',');
  app.add_option("--seeds", c.seeds, "comma-separated seeds (results are averaged)")->delimiter(',')->check(CLI::NonNegativeNumber);
  app.add_option("--seed", single_seed, "a single seed (same as --seeds N)")->check(CLI::NonNegativeNumber);
  // Training settings: unset, each network uses its own (listed at the end of --help).
  app.add_option("--epochs", c.epochs, "maximum epochs (with patience 0: the fixed budget)");
  app.add_option("--patience", c.patience,
                 "early-stopping patience (epochs without a better validation loss); 0: a fixed budget");
  app.add_option("--batch-size", c.batch_size, "minibatch size");
  app.add_option("--lr", c.lr, "Adam learning rate");
  app.add_flag("--search-lr", c.search_lr,
               "train each network once per learning rate of its declared grid (listed below with its settings), "
               "everything else from its recipe (same seed and split), and keep the one with the lowest best-epoch "
               "validation loss (ties: the smaller rate); benchmark: the validation cells of the training types "
               "only. Multiplies training time by the grid's size (3 or 4); not with --lr or a model_settings lr. "
               "metrics.json (train: model.json) records every rate's validation loss and the choice");
  app.add_option("--mmd-weight", c.mmd_weight,
                 "weight of an MMD term (RBF, 0.25-4x the median distance) between each minibatch's predicted and "
                 "observed perturbed cells, added to every network's loss (scgen: the batch's latent shift; MTAe "
                 "family: controls decoded under the perturbed condition); logged as train_mmd; 0: off");
  app.add_option("--warmup-steps", c.warmup_steps, "linear learning-rate warm-up over the first N steps");
  app.add_option("--validation-fraction", c.validation_fraction, "validation share of each (type, condition) group");
  app.add_option("--alpha", c.alpha, "KL weight (scgen, mtvae)");
  app.add_option("--dropout", c.dropout, "dropout after each hidden layer");
  app.add_option("--input-dropout", c.input_dropout, "dropout on the encoder's input (the MTAe family)");
  app.add_option("--latent", c.latent, "latent size");
  app.add_option("--adversarial", c.adversarial, "weight of the encoder's adversarial term (mtae-adv)");
  app.add_option("--decode", c.decode,
                 "latent models: direct, Dec(z + delta); or residual, x_ctrl + Dec(z + delta) - Dec(z) (saved with "
                 "the model)");
  app.add_option("--encoder", c.encoder,
                 "how the networks (scgen, mtae family) read the genes: mlp (the published network), masked-linear (NetActivity: one ELU "
                 "activity per gene set, weights only on its genes) or pathway-attention (masked gene-to-pathway "
                 "attention, pooled per pathway); the last two need --gene-sets. benchmark: a comma-separated list "
                 "trains every network once per encoder, rows <model>+<encoder> in one table");
  app.add_option("--gene-sets", c.gene_sets,
                 "GMT file: the pathways of --encoder, and for every model a per-pathway comparison of real and "
                 "predicted responses (pathways_<type>.csv/.md)");
  app.add_option("--mask", c.mask, "pathway-attention: hard (only the set's genes) or soft (learned gates, plus 10 "
                                   "coexpressed candidate genes per pathway); benchmark: hard,soft trains both "
                                   "(rows ...+pathway-attention-hard / -soft)");
  apps::add_gene_set_selection_flags(app, c, "the data");
  app.add_option("--top-degs", c.top_degs, "number of top DEGs for R^2 and common DEGs");
  app.add_option("--bootstrap", c.bootstrap, "bootstrap resamples");
  app.add_option("--pca-components", c.pca_components, "PCA components for distances");
  app.add_option("--min-cells", c.min_cells,
                 "benchmark: skip held-out types with fewer control or perturbed cells (with a note)");
  app.add_option("--device", c.device, "cpu, cuda or auto");
  app.add_option("--out", c.out, "output folder (refused if it holds a run, unless --overwrite)");
  app.add_flag("--overwrite", c.overwrite, "replace an earlier run in --out (and --save-model)");
  app.add_flag("--profile", c.profile,
               "print, for each network trained, the time each op took in its second epoch's training steps "
               "(forward, backward, optimizer; the GPU synchronised around each op, so slower while it runs)");
  app.add_flag("--deterministic", c.deterministic, apps::kDeterministicHelp);
}

void add_predict_flags(CLI::App& sub, PredictConfig& p) {
  sub.add_option("--model", p.model, "model folder (a train run's model/, or its --save-model folder)")->required();
  sub.add_option("--data", p.data, ".h5ad or 10x .h5 file with the cells to predict from")->required();
  sub.add_option("--cell-type", p.cell_types, "cell type(s) whose control cells are predicted (default: all)")
      ->delimiter(',');
  sub.add_option("--to", p.to, "the perturbed value to predict (default: the model's only one)");
  sub.add_option("--cell-type-key", p.cell_type_key, "obs column with the cell type (default: the model's)");
  sub.add_option("--condition-key", p.condition_key, "obs column with the condition (default: the model's)");
  sub.add_option("--layer", p.layer, "read this layer instead of X");
  sub.add_flag("--use-raw", p.use_raw, "read .raw instead of X");
  sub.add_option("--preprocess", p.preprocess,
                 "none or log1p (default: what the model was trained with); a model trained on an encoding "
                 "applies its own to the cells read");
  sub.add_flag("--allow-counts", p.allow_counts, "use integer counts as they are (not recommended)");
  sub.add_option("--fill-missing", p.fill_missing, "zeros: set model genes the file lacks to 0 (default: an error)");
  sub.add_option("--device", p.device, "cpu, cuda or auto");
  sub.add_option("--out", p.out, "output folder")->required();
  sub.add_flag("--overwrite", p.overwrite, "replace an earlier run in --out");
}

int run(int argc, char** argv) {
  Config c;
  PredictConfig p;
  CLI::App app{"Predict the perturbation response of cell types (scGen, scVIDR, MTAe, baselines)"};
  app.require_subcommand(0, 1);
  std::string config_file, train_model;
  int64_t single_seed = -1;
  add_training_flags(app, c, config_file, single_seed);
  app.footer(network_recipes_help());
  CLI::App* benchmark = app.add_subcommand("benchmark",
                                           "leave each cell type out in turn, train, predict, score "
                                           "(the default when no subcommand is given)");
  benchmark->fallthrough();
  CLI::App* train = app.add_subcommand("train", "fit one model on every cell of --data and save it (model/ in --out)");
  train->fallthrough();
  train->add_option("--model", train_model, "the model to train (default scgen):" + perturb_models_help());
  train->add_option("--save-model", c.save_model, "also write the model folder here");
  train->add_option("--checkpoint-every", c.checkpoint_every,
                    "save the whole training state every N epochs into OUT.checkpoints/ (resume with --resume OUT)");
  train->add_option("--resume", c.resume, "continue the interrupted train run into this --out folder");
  CLI::App* predict = app.add_subcommand("predict", "apply a saved model to the control cells of --data");
  add_predict_flags(*predict, p);
  if (const auto done = apps::parse_command_line(app, argc, argv, [&] { load_config_files(argc, argv, c); }))
    return *done;
  if (predict->parsed()) {
    for (const CLI::Option* o : app.get_options())
      if (o->count() > 0 && o->get_name() != "--version" && o->get_name() != "--help")
        throw Error(o->get_name() + " is a training setting; predict takes the model's own (see predict --help)");
    return run_predict(p);
  }
  if (single_seed >= 0) c.seeds = {static_cast<uint64_t>(single_seed)};
  set_deterministic(c.deterministic);
  if (train->parsed() && !c.resume.empty()) {
    // Everything but the device comes from the interrupted run's own config.
    apps::refuse_flags_besides_resume({&app, train});
    Config r;
    merge_json(r, apps::interrupted_run_config(c.resume), apps::checkpoint_folder_of(c.resume) + "/config.json");
    r.resume = r.out = c.resume;
    if (app.get_option("--device")->count() > 0) r.device = c.device;
    return run_train(r);
  }
  if (train->parsed()) {
    if (c.held_out_dose) throw Error("--held-out-dose: a benchmark setting; train fits every cell it is given");
    if (!train_model.empty()) c.models = {train_model};
    else if (app.get_option("--models")->count() == 0 && c.models == Config{}.models) c.models = {"scgen"};
    // One model, one seed: the benchmark's default of three seeds does not apply.
    if (app.get_option("--seeds")->count() == 0 && single_seed < 0 && c.seeds == Config{}.seeds) c.seeds = {0};
    return run_train(c);
  }
  return c.held_out_dose ? run_dose_benchmark(c) : run_benchmark(c);
}

}  // namespace

int main(int argc, char** argv) {
  return apps::run_app("predict_perturbation", [&] { return run(argc, argv); });
}
