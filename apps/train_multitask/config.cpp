#include "apps/train_multitask/config.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <functional>
#include <set>

#include "apps/common/app_cli.h"
#include "apps/common/gene_set_flags.h"
#include "apps/common/settings.h"
#include "apps/train_multitask/ablation.h"
#include "apps/train_multitask/baselines.h"
#include "apps/train_multitask/control_features.h"
#include "apps/train_multitask/likelihoods.h"
#include "apps/train_multitask/loss_terms.h"
#include "apps/train_multitask/model_registry.h"
#include "apps/train_multitask/preprocessing.h"
#include "apps/train_multitask/schedules.h"
#include "autograd/error.h"
#include "base/registry.h"
#include "base/text.h"
#include "nn/loss_weighting.h"

namespace cg::multitask {

// One list of every setting keeps to_json, merge_json and the flags from drifting apart.
#define CG_MULTITASK_SETTINGS(X)                                                                              \
  X(modalities)                                                                                               \
  X(preprocess)                                                                                               \
  X(distance)                                                                                                 \
  X(top_features)                                                                                             \
  X(layer)                                                                                                    \
  X(use_raw)                                                                                                  \
  X(label_key)                                                                                                \
  X(condition_key)                                                                                            \
  X(zero_variance)                                                                                            \
  X(test_fraction)                                                                                            \
  X(folds)                                                                                                    \
  X(fold)                                                                                                     \
  X(validation_fraction) X(model) X(dropout) X(pretrain_epochs) X(hidden) X(latent) X(projector) X(vae) X(kl_warmup) X(temperature) X(encoder) X(gene_sets) X(mask) X(heads) X(embed) X(min_set_size) X(max_set_size) X(min_genes_present) X(redundancy) X(no_classifier) \
      X(no_translation) X(no_reconstruction) X(no_discriminator) X(no_contrastive) X(weight_reconstruction)   \
          X(weight_translation) X(weight_discriminator) X(weight_generator) X(weight_classification)          \
              X(weight_contrastive) X(weight_kl) X(schedule) X(weighting) X(epochs) X(patience) X(select_on)  \
                  X(batch_size) X(lr) X(ablation) X(attributions) X(attribution_cells) X(attribution_steps)   \
                      X(attribution_targets) X(baselines) X(baseline_components) X(ridge_alphas) X(knn_k)     \
                          X(control_features) X(seed) X(checkpoint_every) X(device) X(out) X(save_model)
// --overwrite is a decision for one invocation, never a stored setting.

namespace {
[[noreturn]] void fail(const std::string& m) { throw Error(m); }

// What --model and count likelihoods allow together with the other settings.
void check_model_settings(const Config& c, const std::map<std::string, std::string>& mods) {
  model_entry(c.model);
  const bool unitednet = c.model == "unitednet";
  const std::string m = "--model " + c.model + ": ";
  if (!(c.dropout >= 0 && c.dropout < 1)) fail("--dropout: expected a value in [0, 1), found " + std::to_string(c.dropout));
  if (c.pretrain_epochs < 1) fail("--pretrain-epochs: expected at least 1, found " + std::to_string(c.pretrain_epochs));
  if (unitednet && c.dropout > 0) fail("--dropout: applies to --model mlp and scbutterfly (UnitedNet has no dropout)");
  if (!unitednet) {
    if (!c.condition_key.empty()) fail(m + "--condition-key (FiLM-conditioned decoders) is UnitedNet's; leave it out");
    if (!c.ablation.empty()) fail(m + "--ablation compares UnitedNet variants; leave it out or use --model unitednet");
    if (c.attributions > 0) fail(m + "--attributions is supported with --model unitednet only");
    if (c.checkpoint_every > 0) fail(m + "--checkpoint-every is supported with --model unitednet only");
    if (c.vae) fail(m + "--vae is UnitedNet's (scbutterfly's latents are Gaussian already)");
    if (c.schedule != "alternating" || c.weighting != "fixed")
      fail(m + "--schedule and --weighting are UnitedNet's; leave them at their defaults");
  }
  const auto dist = parse_assignments(c.distance, "--distance");
  const auto top = parse_assignments(c.top_features, "--top-features");
  for (const auto& [name, value] : dist) {
    if (!mods.count(name) || !likelihood(value).counts) continue;
    if (top.count(name))
      fail("--distance " + name + "=" + value + ": predicted counts are scored on the --preprocess scale, which needs "
           "every feature of a cell; --top-features " + name + " cannot be combined with it");
    if (unitednet && !c.no_discriminator && c.weight_discriminator > 0 && c.weight_generator > 0)
      fail("--distance " + name + "=" + value + ": UnitedNet's discriminators compare decoded and real values on one "
           "scale; add --no-discriminator with a count likelihood");
  }
}
// --encoder and --gene-sets name given modalities; each modality's choice is consistent; the
// shared attention and selection settings are in range; --mask soft has an attention encoder.
void check_encoder_settings(const Config& c, const std::map<std::string, std::string>& mods) {
  const auto encoders = parse_assignments(c.encoder, "--encoder");
  const auto sets = parse_assignments(c.gene_sets, "--gene-sets");
  for (const auto* entries : {&encoders, &sets})
    for (const auto& [name, value] : *entries)
      if (!mods.count(name))
        fail(std::string(entries == &encoders ? "--encoder" : "--gene-sets") + ": '" + name +
             "' is not a modality given with --modality");
  if (c.mask == "soft" && sets.empty())
    fail("--mask soft: needs --gene-sets NAME=FILE (a GMT file): the soft mask starts from the gene sets");
  bool attention = false;
  for (const auto& [name, file] : mods) {
    const apps::GeneEncoderSettings s = gene_encoder_settings(c, name);
    const bool mlp = apps::gene_encoder_kind(s.encoder, s.encoder_flag) == apps::GeneEncoderSpec::Kind::Mlp;
    if (mlp && !s.gene_sets.empty())
      fail("--gene-sets " + name + ": the modality's encoder is mlp, which uses no gene sets; give --encoder " + name +
           "=masked-linear or pathway-attention");
    if (mlp) continue;
    attention = attention || s.encoder == "pathway-attention";
    apps::GeneEncoderSettings one = s;
    if (s.encoder != "pathway-attention") one.mask = "hard";  // --mask applies to the attention encoders
    apps::check_encoder_choice(one);
  }
  apps::check_shared_gene_set_settings(gene_encoder_settings(c, mods.begin()->first));
  if (c.mask == "soft" && !attention)
    fail("--mask soft: applies to pathway-attention encoders, and no --encoder NAME=pathway-attention is given");
}

}  // namespace

apps::GeneEncoderSettings gene_encoder_settings(const Config& c, const std::string& name) {
  apps::GeneEncoderSettings s = apps::shared_gene_encoder_settings(c);
  const auto encoders = parse_assignments(c.encoder, "--encoder");
  const auto sets = parse_assignments(c.gene_sets, "--gene-sets");
  if (encoders.count(name)) s.encoder = encoders.at(name);
  if (sets.count(name)) s.gene_sets = sets.at(name);
  s.encoder_flag = "--encoder " + name;
  s.gene_sets_flag = "--gene-sets " + name;
  s.assign = "=";
  return s;
}

std::map<std::string, std::string> parse_assignments(const std::vector<std::string>& entries, const std::string& flag) {
  std::map<std::string, std::string> out;
  for (const auto& e : entries) {
    const auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == e.size())
      fail(flag + ": expected NAME=VALUE, found '" + e + "'");
    const std::string name = e.substr(0, eq);
    if (!out.emplace(name, e.substr(eq + 1)).second) fail(flag + ": modality '" + name + "' is given twice");
  }
  return out;
}

MatrixSource matrix_source(const std::vector<std::string>& layer, const std::vector<std::string>& use_raw,
                           const std::string& modality) {
  MatrixSource s;
  const auto layers = parse_assignments(layer, "--layer");
  if (layers.count(modality)) s.layer = layers.at(modality);
  s.use_raw = std::find(use_raw.begin(), use_raw.end(), modality) != use_raw.end();
  return s;
}

void check_matrix_sources(const std::vector<std::string>& layer, const std::vector<std::string>& use_raw,
                          const std::map<std::string, std::string>& modalities) {
  const auto layers = parse_assignments(layer, "--layer");
  for (const auto& [name, value] : layers)
    if (!modalities.count(name)) fail("--layer: '" + name + "' is not a modality given with --modality");
  for (const auto& name : use_raw) {
    if (!modalities.count(name)) fail("--use-raw: '" + name + "' is not a modality given with --modality");
    if (layers.count(name)) fail("--layer and --use-raw both choose the matrix of '" + name + "'; give one of them");
  }
}

namespace {
void map_files(std::vector<std::string>& entries, const std::function<std::string(const std::string&)>& f) {
  for (auto& e : entries) {
    const auto eq = e.find('=');
    if (eq != std::string::npos) e = e.substr(0, eq + 1) + f(e.substr(eq + 1));
  }
}
}  // namespace

void absolute_modality_paths(std::vector<std::string>& entries) {
  map_files(entries, [](const std::string& p) { return apps::absolute_path(p); });
}
void modality_paths_under(const std::string& folder, std::vector<std::string>& entries) {
  map_files(entries, [&](const std::string& p) { return apps::path_under(folder, p); });
}

void Config::validate() const {
  if (checkpoint_every < 0)
    fail("--checkpoint-every: expected 0 (no checkpoints) or a number of epochs, found " +
         std::to_string(checkpoint_every));
  if (out.empty()) fail("--out: an output folder is required");
  const auto mods = parse_assignments(modalities, "--modality");
  if (mods.size() < 2)
    fail("--modality: at least two modalities (NAME=FILE.h5ad) are required, found " + std::to_string(mods.size()));
  auto check_names = [&](const std::vector<std::string>& entries, const std::string& flag,
                         const std::set<std::string>& allowed) {
    for (const auto& [name, value] : parse_assignments(entries, flag)) {
      if (!mods.count(name)) fail(flag + ": '" + name + "' is not a modality given with --modality");
      if (!allowed.empty() && !allowed.count(value))
        fail(flag + " " + name + ": unknown value '" + value + "' (expected " + join(allowed) + ")");
    }
  };
  check_names(preprocess, "--preprocess", {preprocess_names().begin(), preprocess_names().end()});
  {
    const auto known = names_of(likelihoods());
    check_names(distance, "--distance", std::set<std::string>(known.begin(), known.end()));
  }
  check_model_settings(*this, mods);
  check_encoder_settings(*this, mods);
  check_names(top_features, "--top-features", {});
  parse_control_features(control_features, mods);
  check_matrix_sources(layer, use_raw, mods);
  for (const auto& [name, value] : parse_assignments(top_features, "--top-features")) {
    char* end = nullptr;
    errno = 0;
    const long long n = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || n < 1 || errno == ERANGE)
      fail("--top-features " + name + ": expected a positive integer (a feature count), found '" + value + "'");
  }
  if (zero_variance != "drop" && zero_variance != "error")
    fail("--zero-variance: expected drop or error, found '" + zero_variance + "'");
  if (folds == 0) {
    if (!(test_fraction > 0 && test_fraction < 1))
      fail("--test-fraction: expected a value in (0, 1), found " + std::to_string(test_fraction));
    if (fold != -1) fail("--fold needs --folds K");
  } else {
    if (folds < 2) fail("--folds: expected at least 2, found " + std::to_string(folds));
    if (fold < -1 || fold >= folds)
      fail("--fold: expected 0.." + std::to_string(folds - 1) + " (or -1 for every fold), found " +
           std::to_string(fold));
  }
  if (!(validation_fraction > 0 && validation_fraction < 1)) fail("--validation-fraction: expected a value in (0, 1)");
  if (hidden.empty()) fail("--hidden: at least one hidden width is required");
  for (int64_t h : hidden)
    if (h < 1) fail("--hidden: widths must be positive, found " + std::to_string(h));
  if (latent < 1 || projector < 1) fail("--latent and --projector must be positive");
  if (kl_warmup < 0) fail("--kl-warmup: expected >= 0");
  if (!(temperature > 0)) fail("--temperature: expected a positive value");
  for (const auto& term : loss_terms()) {
    const std::string flag = std::string("--weight-") + term.name;
    const double w = this->*(term.weight);
    if (!std::isfinite(w)) fail(flag + ": expected a finite weight, found " + std::to_string(w));
    if (w < 0) fail(flag + ": a loss weight must be >= 0, found " + std::to_string(w));
  }
  find_named(schedules(), schedule, "--schedule: unknown schedule");
  find_named(nn::loss_weightings(), weighting, "--weighting: unknown strategy");
  if (epochs < 1) fail("--epochs: expected at least 1, found " + std::to_string(epochs));
  if (patience < 1) fail("--patience: expected at least 1, found " + std::to_string(patience));
  if (select_on != "sum" && select_on != "translation" && select_on != "classification")
    fail("--select-on: expected sum, translation or classification, found '" + select_on + "'");
  if (batch_size < 2)
    fail("--batch-size: expected at least 2 (batch norm needs two cells), found " + std::to_string(batch_size));
  if (!(lr > 0)) fail("--lr: expected a positive learning rate");
  check_baseline_settings(*this);
  if (device != "auto" && device != "cpu" && device != "cuda")
    fail("--device: expected cpu, cuda or auto, found '" + device + "'");
  if (attributions < 0 || attribution_cells < 1 || attribution_steps < 1)
    fail("--attributions must be >= 0, --attribution-cells and --attribution-steps >= 1");
  if (attributions > 0 && !condition_key.empty())
    fail("--attributions: not supported with --condition-key (FiLM-conditioned decoders)");
  for (const auto& t : attribution_targets)
    if (t != "classifier" && !mods.count(t)) {
      std::vector<std::string> known{"classifier"};
      for (const auto& [name, file] : mods) known.push_back(name);
      fail("--attribution-targets: unknown target '" + t + "' (expected one of: " + join(known) + ")");
    }
  if (!attribution_targets.empty() && attributions == 0) fail("--attribution-targets needs --attributions N (N > 0)");
  if (no_translation && no_classifier) fail("--no-translation and --no-classifier together leave nothing to train");
  if (!save_model.empty() && !ablation.empty())
    fail("--save-model: an --ablation run trains several variants and saves no model; expected a single run");
  auto folder_of = [](std::string p) {
    p = apps::absolute_path(p);
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
  };
  if (!save_model.empty() && folder_of(save_model) == folder_of(out))
    fail("--save-model " + save_model + ": expected a folder other than --out (the run writes its own model/ there)");
}

CG_DEFINE_SETTINGS_JSON(Config, CG_MULTITASK_SETTINGS)

nlohmann::json resolved_json(const Config& c) {
  Config r = c;
  absolute_modality_paths(r.modalities);
  absolute_modality_paths(r.gene_sets);
  r.out = apps::absolute_path(r.out);
  r.save_model = apps::absolute_path(r.save_model);
  return to_json(r);
}

void load_config_files(int argc, char** argv, Config& c) {
  for (const auto& file : apps::read_config_files(argc, argv)) {
    Config from_file = c;
    merge_json(from_file, file.settings, file.source);
    // Paths in the file are relative to the file's folder.
    if (file.settings.contains("modalities")) modality_paths_under(file.folder, from_file.modalities);
    if (file.settings.contains("gene_sets")) modality_paths_under(file.folder, from_file.gene_sets);
    if (file.settings.contains("out")) from_file.out = apps::path_under(file.folder, from_file.out);
    if (file.settings.contains("save_model"))
      from_file.save_model = apps::path_under(file.folder, from_file.save_model);
    c = from_file;
  }
}

void add_flags(CLI::App& app, Config& c) {
  app.add_option("--modality", c.modalities, "NAME=FILE.h5ad, repeated (at least two; cells paired by obs index)");
  app.add_option("--preprocess", c.preprocess,
                 "NAME=" + join(preprocess_names(), "|") +
                     " (per modality; default none). rank, rank-top100, bins: rank-value encodings as numbers, "
                     "1 - (rank - 1) / K for a cell's top K genes (Geneformer K 2048 over gene medians of the "
                     "training cells, cell2sentence K 100), 0 elsewhere; scGPT's 51 quantile bins / 50");
  {
    std::string likelihood_help, models_help;
    for (const auto& l : likelihoods()) likelihood_help += std::string("\n  ") + l.name + ": " + l.description;
    for (const auto& e : models()) models_help += std::string("\n  ") + e.name + ": " + e.description;
    app.add_option("--distance", c.distance,
                   "NAME=LIKELIHOOD per modality (default mse; bce binarizes the data; nb and zinb need raw integer "
                   "counts and score their predicted means on the --preprocess scale):" +
                       likelihood_help);
    app.add_option("--model", c.model, "the translator to train:" + models_help);
    app.add_option("--dropout", c.dropout, "hidden-layer dropout (mlp, scbutterfly)");
    app.add_option("--pretrain-epochs", c.pretrain_epochs, "scbutterfly: epochs of the per-modality VAE pretraining");
  }
  app.add_option("--checkpoint-every", c.checkpoint_every,
                 "save the whole training state every N epochs into OUT.checkpoints/ (resume with --resume OUT)");
  app.add_option("--resume", c.resume, "continue the interrupted run into this --out folder from its checkpoints");
  app.add_option("--top-features", c.top_features, "NAME=N: keep the N most variable features (on training cells)");
  app.add_option("--layer", c.layer, "NAME=LAYER: read that layer of the modality's file instead of X");
  app.add_option("--use-raw", c.use_raw, "NAME[,NAME]: read the modality's .raw (scanpy's data before scaling)")
      ->delimiter(',');
  app.add_option("--label-key", c.label_key, "obs column with cell labels (turns on classification)");
  app.add_option("--condition-key", c.condition_key, "obs column with the condition (FiLM-conditioned decoders)");
  app.add_option("--zero-variance", c.zero_variance,
                 "features constant on the training cells: drop (with a note) or error");
  app.add_option("--test-fraction", c.test_fraction, "share of cells held out for testing (stratified by label)");
  app.add_option("--folds", c.folds, "K-fold cross-validation (replaces --test-fraction)");
  app.add_option("--fold", c.fold, "the fold used as the test set (default: every fold in turn)");
  app.add_option("--validation-fraction", c.validation_fraction, "share of the training cells used for early stopping");
  app.add_option("--hidden", c.hidden, "encoder hidden widths, comma-separated (decoders mirror)")->delimiter(',');
  app.add_option("--latent", c.latent, "latent width");
  app.add_option("--projector", c.projector, "projector width (classification and contrastive head)");
  app.add_flag("--vae", c.vae, "Gaussian (VAE) latents with a KL term");
  app.add_option("--kl-warmup", c.kl_warmup, "epochs over which the KL weight ramps up");
  app.add_option("--temperature", c.temperature, "contrastive temperature");
  app.add_option("--encoder", c.encoder,
                 "NAME=KIND: how modality NAME's encoder reads its features (default mlp): mlp (a dense first "
                 "layer), masked-linear (NetActivity: one ELU activity per gene set, weights only on its genes) or "
                 "pathway-attention (masked gene-to-pathway attention, pooled per pathway), then the model's own "
                 "layers into its latent; the last two need --gene-sets NAME=FILE");
  app.add_option("--gene-sets", c.gene_sets,
                 "NAME=FILE.gmt: the gene sets of modality NAME's pathway encoder, matched to its feature names "
                 "(symbols, case-insensitive); saved with the model, so predict needs no GMT");
  app.add_option("--mask", c.mask, "pathway-attention: hard (only the set's genes) or soft (learned gates, plus 10 "
                                   "coexpressed candidate genes per pathway)");
  apps::add_gene_set_selection_flags(app, c, "the modality");
  app.add_flag("--no-classifier", c.no_classifier, "switch the classification task off");
  app.add_flag("--no-translation", c.no_translation,
               "switch reconstruction, translation, GAN and contrastive terms off");
  app.add_flag("--no-reconstruction", c.no_reconstruction, "switch the reconstruction term off");
  app.add_flag("--no-discriminator", c.no_discriminator, "switch the discriminators (and generator term) off");
  app.add_flag("--no-contrastive", c.no_contrastive, "switch the contrastive term off");
  for (const auto& term : loss_terms())
    app.add_option(std::string("--weight-") + term.name, c.*(term.weight),
                   std::string("loss weight: ") + term.description);
  std::string schedules_help, weightings_help;
  for (const auto& sc : schedules()) schedules_help += std::string("\n  ") + sc.name + ": " + sc.description;
  for (const auto& w : nn::loss_weightings()) weightings_help += "\n  " + w.name + ": " + w.description;
  app.add_option("--schedule", c.schedule,
                 "how the translation group and the classifier share an epoch:" + schedules_help);
  app.add_option("--weighting", c.weighting,
                 "loss-weighting strategy of the translation group (every task with joint):" + weightings_help);
  app.add_option("--epochs", c.epochs, "maximum epochs");
  app.add_option("--patience", c.patience, "early-stopping patience (epochs without a better validation loss)");
  app.add_option("--select-on", c.select_on,
                 "validation terms for early stopping and the best checkpoint: sum, translation (reconstruction + "
                 "translation) or classification");
  app.add_option("--batch-size", c.batch_size, "minibatch size");
  app.add_option("--lr", c.lr, "Adam learning rate");
  app.add_option("--ablation", c.ablation,
                 "comma-separated variants, each a '+'-joined list of parts (joint+pcgrad):" + ablation_parts_help())
      ->delimiter(',');
  app.add_option("--attributions", c.attributions,
                 "write integrated-gradients attributions: top N features per output (0: off)");
  app.add_option("--attribution-cells", c.attribution_cells, "held-out cells used for attributions");
  app.add_option("--attribution-steps", c.attribution_steps, "integrated-gradients path steps");
  app.add_option("--attribution-targets", c.attribution_targets,
                 "comma-separated: modality names (every direction into it) and/or classifier (default: all)")
      ->delimiter(',');
  add_baseline_flags(app, c);
  app.add_option("--control-features", c.control_features,
                 "NAME=FEAT1,FEAT2: control features of a modality (isotype/blank antibodies), left out of the "
                 "translation means into it and scored separately (default: the file's uns['control_features'])");
  app.add_option("--seed", c.seed, "random seed (splits, initialisation, batches)")->check(CLI::NonNegativeNumber);
  app.add_option("--device", c.device, "cpu, cuda or auto");
  app.add_flag("--profile", c.profile,
               "print the time each op took in the second epoch's training steps (forward, backward, optimizer; "
               "the GPU synchronised around each op, so slower while it runs)");
  app.add_flag("--deterministic", c.deterministic, apps::kDeterministicHelp);
  app.add_option("--out", c.out, "output folder (refused if it holds a run, unless --overwrite)");
  app.add_option("--save-model", c.save_model,
                 "also write the trained model (the first split's) as a folder here, for `train_multitask predict "
                 "--model` (refused if it holds one, unless --overwrite)");
  app.add_flag("--overwrite", c.overwrite, "replace an earlier run in --out (and an earlier model in --save-model)");
}

}  // namespace cg::multitask
