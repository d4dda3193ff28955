// train_multitask: one model that translates between paired modalities, classifies cells and
// (optionally) conditions its decoders on a perturbation, UnitedNet-style; with an ablation
// mode that compares schedules, loss weightings and single-task baselines on the same splits.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <algorithm>

#include "apps/common/app_cli.h"
#include "apps/common/app_main.h"
#include "autograd/process_group.h"
#include "apps/common/checkpoint_folder.h"
#include "apps/common/run_folder.h"
#include "apps/common/run_notes.h"
#include "apps/train_multitask/ablation.h"
#include "apps/train_multitask/attributions.h"
#include "apps/train_multitask/baselines.h"
#include "apps/train_multitask/config.h"
#include "apps/train_multitask/control_features.h"
#include "apps/train_multitask/data.h"
#include "apps/train_multitask/evaluate.h"
#include "apps/train_multitask/model.h"
#include "apps/train_multitask/likelihoods.h"
#include "apps/train_multitask/model_io.h"
#include "apps/train_multitask/model_registry.h"
#include "apps/train_multitask/outputs.h"
#include "apps/train_multitask/pathway_encoders.h"
#include "apps/train_multitask/predict.h"
#include "apps/train_multitask/predict_config.h"
#include "apps/train_multitask/splits.h"
#include "apps/train_multitask/trainer.h"
#include "autograd/error.h"

using namespace cg;
using namespace cg::multitask;

namespace {

// A sub-folder of the run ("" for the run folder itself), created, as a path ending in '/'.
std::string folder(const apps::RunFolder& run, const std::string& sub) {
  const std::string file = run.path(sub.empty() ? "metrics.json" : sub + "/metrics.json");
  return std::filesystem::path(file).parent_path().string() + "/";
}

// The folder a RunFolder stages into (where its files go before commit).
std::string staging_dir(const apps::RunFolder& run) {
  return std::filesystem::path(run.path("config.json")).parent_path().string();
}

// What model.json says about a model trained on `split`.
SavedModel describe_model(const Config& c, const Dataset& data, const std::vector<PreparedModality>& prepared,
                          const ModelSpec& spec, const Split& split, const TrainResult& tr, size_t splits_in_run) {
  SavedModel s;
  for (const auto& p : prepared) s.modalities.push_back(p.prep);
  s.spec = spec;
  s.label_key = c.label_key;
  s.classes = data.label_names;
  s.condition_key = c.condition_key;
  s.conditions = data.condition_names;
  s.seed = c.seed;
  s.training = {{"split", split.name},
                {"splits_in_run", splits_in_run},
                {"train_cells", split.train.size()},
                {"validation_cells", split.validation.size()},
                {"test_cells", split.test.size()},
                {"best_epoch", tr.best_epoch},
                {"best_val_loss", tr.best_val}};
  return s;
}

// Per modality, which of its kept features are controls (control_features.h).
std::vector<std::vector<bool>> control_masks(const Dataset& data, const std::vector<PreparedModality>& prepared) {
  std::vector<std::vector<bool>> out;
  for (size_t m = 0; m < prepared.size(); ++m)
    out.push_back(control_mask(prepared[m].var.index, data.modalities[m].controls));
  return out;
}

// The baselines of one split on their own (an ablation scores them once, not per variant).
nlohmann::json baselines_of_split(const Config& c, const Dataset& data, const Split& split) {
  const auto prepared = prepare_modalities(data, split.train, c.zero_variance, false);
  nlohmann::json m;
  m["baselines"] = run_baselines(c, prepared, split, control_masks(data, prepared));
  m["split"] = split.name;
  m["test_cells"] = split.test.size();
  m["train_cells"] = split.train.size();
  m["validation_cells"] = split.validation.size();
  return m;
}

// One table row per baseline: its per-split "translation" entries.
std::vector<VariantResult> baseline_rows(const std::vector<nlohmann::json>& per_split) {
  std::vector<VariantResult> rows;
  for (const auto& b : baselines()) {
    VariantResult r{"baseline: " + b.name, {}};
    for (const auto& m : per_split)
      if (m.contains("baselines") && m["baselines"].contains(b.name))
        r.per_split.push_back({{"translation", m["baselines"][b.name]["translation"]}});
    if (!r.per_split.empty()) rows.push_back(std::move(r));
  }
  return rows;
}

void print_baselines(const nlohmann::json& m) {
  if (!m.contains("baselines") || m["baselines"].empty()) return;
  auto val = [](const nlohmann::json& j, const char* k) {
    return j.contains(k) && !j[k].is_null() ? j[k].get<double>() : NAN;
  };
  std::printf("  baselines (same cells, preprocessing and metrics):\n");
  for (auto b = m["baselines"].begin(); b != m["baselines"].end(); ++b)
    for (auto d = b.value()["translation"].begin(); d != b.value()["translation"].end(); ++d) {
      std::printf("    %-15s %-28s R^2 %7.3f  Pearson %6.3f", b.key().c_str(), d.key().c_str(), val(d.value(), "r2"),
                  val(d.value(), "pearson"));
      if (d.value().contains("auroc_per_cell")) std::printf("  AUROC/cell %.3f", val(d.value(), "auroc_per_cell"));
      std::printf("\n");
    }
  std::fflush(stdout);
}

// Trains and evaluates one configuration on one split; writes everything into `dir` and the
// trained model into every folder of `model_dirs`.
nlohmann::json run_one(const Config& c, const Dataset& data, const Split& split, Device device, const std::string& dir,
                       bool full_outputs, const std::string& label, const std::vector<std::string>& model_dirs = {},
                       size_t splits_in_run = 1, bool with_baselines = false) {
  const auto prepared = prepare_modalities(data, split.train, c.zero_variance, full_outputs);
  const auto controls = control_masks(data, prepared);
  TrainData td;
  ModelSpec spec;
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> features;
  const auto dist = parse_assignments(c.distance, "--distance");
  for (size_t m = 0; m < prepared.size(); ++m) {
    const PreparedModality& p = prepared[m];
    td.X.push_back(p.X);
    td.bce.push_back(p.bce);
    td.prep.push_back(p.prep);
    spec.inputs.push_back(p.X.cols());
    spec.bce.push_back(p.bce);
    spec.likelihood.push_back(dist.count(p.name) ? dist.at(p.name) : (p.bce ? "bce" : "mse"));
    spec.library.push_back(0);
    td.counts.emplace_back(p.X.rows(), 0);
    if (likelihood(spec.likelihood.back()).counts) {
      // The loss's target: the raw counts of the model's features (check_count_modalities made
      // sure they are counts); the prediction's library: their training cells' mean total.
      const RawModality& raw = data.modalities[m];
      const omics::CsrMatrix x = raw.X.sparse ? raw.X.csr : omics::CsrMatrix::from_dense(raw.X.dense);
      td.counts.back() = csr_columns(x, p.features).to_dense();
      double total = 0;
      for (int64_t r : split.train) total += td.counts.back().row(r).sum();
      spec.library.back() = total / static_cast<double>(split.train.size());
    }
    names.push_back(p.name);
    features.push_back(p.var.index);
  }
  td.condition = data.condition;
  td.labels = data.labels;
  td.classes = static_cast<int64_t>(data.label_names.size());
  const ActiveTerms active = active_terms(c, data.has_labels());
  spec.hidden = c.hidden;
  spec.latent = c.latent;
  spec.projector = c.projector;
  spec.classes = active.has("classification") ? td.classes : 0;
  spec.conditions = td.condition.cols();
  spec.vae = c.vae;
  spec.discriminators = active.has("discriminator") || active.has("generator");
  spec.model = c.model;
  spec.dropout = c.dropout;
  spec.gene_encoders = gene_encoders_for(c, prepared, split.train, full_outputs);
  const ModelEntry& entry = model_entry(c.model);
  if (c.model != "unitednet") spec.classes = 0;  // only UnitedNet has a classifier
  std::unique_ptr<TranslationModel> owned = entry.make(spec, c.seed);
  TranslationModel& model = *owned;

  const TrainResult tr = entry.train(model, c, td, split, device, dir, label);
  const bool classified = model.has_classifier() && active.has("classification");
  Evaluation ev = evaluate_model(model, td, names, features, split, classified, device, c.seed, controls);
  if (with_baselines) ev.metrics["baselines"] = run_baselines(c, prepared, split, controls);
  ev.metrics["split"] = split.name;
  ev.metrics["train_seconds"] = tr.seconds;
  ev.metrics["best_epoch"] = tr.best_epoch;
  ev.metrics["epochs_run"] = tr.history.size();
  ev.metrics["best_val_loss"] = tr.best_val;
  nlohmann::json features_used = nlohmann::json::object();
  for (const auto& p : prepared) features_used[p.name] = p.X.cols();
  ev.metrics["features"] = features_used;
  ev.metrics["warnings"] = apps::run_notes();  // those of the run so far (loading included)
  write_metrics(dir, ev.metrics);
  write_loss_curves(dir + "loss_curves.svg", tr, label);
  if (ev.latent.cols() > 0) write_latent(dir, ev, data, split, c.label_key);
  write_class_report(dir, ev, data, split);
  if (full_outputs) write_translations(dir, ev, data, prepared, split);
  if (full_outputs) write_pathways(dir, model, data, prepared, split);
  if (full_outputs && c.attributions > 0)
    write_attributions(
        dynamic_cast<UnitedNetModel&>(model), td, names, features, data.label_names, split, active.has("classification"), device,
        AttributionSettings{c.attributions, c.attribution_steps, c.attribution_cells, c.attribution_targets}, dir);
  if (!model_dirs.empty()) {
    const SavedModel saved = describe_model(c, data, prepared, spec, split, tr, splits_in_run);
    for (const auto& md : model_dirs) write_model_folder(md, resolved_json(c), saved, model);
  }
  return ev.metrics;
}

void print_summary(const nlohmann::json& m, const std::string& title) {
  std::printf("%s\n", title.c_str());
  for (auto it = m["translation"].begin(); it != m["translation"].end(); ++it) {
    const auto& d = it.value();
    std::printf("  %-28s R^2 %7.3f  Pearson %6.3f", it.key().c_str(), d["r2"].is_null() ? NAN : d["r2"].get<double>(),
                d["pearson"].is_null() ? NAN : d["pearson"].get<double>());
    if (d.contains("auroc_per_cell"))
      std::printf("  AUROC/cell %.3f", d["auroc_per_cell"].is_null() ? NAN : d["auroc_per_cell"].get<double>());
    std::printf("\n");
  }
  if (m.contains("classification")) {
    const auto& c = m["classification"];
    std::printf("  held-out accuracy %.3f (%s)  macro F1 %.3f  ARI %.3f  NMI %.3f\n", c["accuracy"].get<double>(),
                c["method"].get<std::string>().c_str(), c["macro_f1"].get<double>(), c["ari"].get<double>(),
                c["nmi"].get<double>());
  }
  std::printf("  %zu test cells, best epoch %d, %.1f s\n", m["test_cells"].get<size_t>(), m["best_epoch"].get<int>(),
              m["train_seconds"].get<double>());
  std::fflush(stdout);
  print_baselines(m);
}

// The settings the user gave (flags and --config files), by their config.json names: a model's
// defaults (model_registry.h) replace only the others.
std::set<std::string> given_settings(const CLI::App& app, int argc, char** argv) {
  std::set<std::string> given;
  for (const auto& file : apps::read_config_files(argc, argv))
    for (const auto& [key, value] : file.settings.items()) given.insert(key);
  const Config defaults;
  const nlohmann::json settings = to_json(defaults);
  for (const auto& [key, value] : settings.items()) {
    std::string flag = "--" + key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    const CLI::Option* o = app.get_option_no_throw(flag);
    if (o && o->count() > 0) given.insert(key);
  }
  return given;
}

// --resume OUT: the interrupted run's own settings, from OUT.checkpoints/config.json.
Config resumed_config(const CLI::App& app, const Config& given) {
  apps::refuse_flags_besides_resume({&app});
  Config c;
  merge_json(c, apps::interrupted_run_config(given.resume), apps::checkpoint_folder_of(given.resume) + "/config.json");
  c.resume = given.resume;
  c.out = given.resume;
  if (app.get_option("--device")->count() > 0) c.device = given.device;
  return c;
}

// With --checkpoint-every, OUT.checkpoints/ holds the settings and each split's training state
// until the run is committed.
void start_checkpoints(Config& c) {
  if (c.checkpoint_every <= 0) return;
  c.checkpoint_folder = apps::checkpoint_folder_of(c.out);
  if (c.resume.empty()) apps::start_checkpoint_folder(c.out, resolved_json(c));
}

int run(int argc, char** argv) {
  Config c;
  CLI::App app{
      "Train a multi-task cross-modal model (translation, classification, perturbation) on paired AnnData files; "
      "`train_multitask predict --help` applies a trained model to new cells"};
  std::string config_file;
  app.add_option("--config", config_file, "JSON file with settings (flags override it)");
  add_flags(app, c);
  PredictConfig pc;
  CLI::App* predict = app.add_subcommand(
      "predict",
      "Apply a trained model (a run's model/ folder or --save-model DIR) to new cells: translations into "
      "every other modality, latents and cell-type predictions");
  std::string predict_config_file;
  predict->add_option("--config", predict_config_file, "JSON file with predict's settings (flags override it)");
  add_predict_flags(*predict, pc);
  // --config files hold the settings of the mode they are given for.
  const bool predicting = argc > 1 && std::string(argv[1]) == "predict";
  if (const auto done = apps::parse_command_line(app, argc, argv, [&] {
        if (predicting) load_config_files(argc, argv, pc);
        else load_config_files(argc, argv, c);
      }))
    return *done;
  if (*predict) {
    if (!predicting)
      throw Error("predict: expected the subcommand first (train_multitask predict --model DIR ...), found '" +
                  std::string(argv[1]) + "' before it");
    return run_predict(pc);
  }
  if (!c.resume.empty()) c = resumed_config(app, c);
  else apply_model_defaults(c, given_settings(app, argc, argv));
  c.validate();
  set_deterministic(c.deterministic);
  if (c.checkpoint_every > 0 && !c.ablation.empty())
    throw Error("--checkpoint-every: applies to single runs, not to --ablation");
  // RunFolder would refuse it too, but naming --out; and before loading anything.
  if (!c.save_model.empty() && !c.overwrite && std::filesystem::exists(c.save_model + "/config.json"))
    throw Error("--save-model " + c.save_model +
                ": already holds a model (config.json found); choose another folder or pass --overwrite");
  std::vector<std::string> variants = c.ablation;
  std::vector<Config> configs;
  for (const auto& v : variants) configs.push_back(apply_variant(c, v));  // unknown names fail before any work
  const Device device = apps::resolve_device(c.device);
  const Dataset data = load_dataset(c);
  check_count_modalities(data, c.distance);
  check_gene_sets_match(c, data);
  const std::vector<Split> splits = make_splits(c, data);
  check_baseline_cells(c, splits);
  // Under mpirun the processes after the first write into scratch folders (removed at exit).
  c.out = apps::own_output_folder(c.out);
  if (!apps::writes_outputs()) c.save_model.clear();
  std::vector<std::string> inputs;  // never inside a folder that is replaced
  for (const auto& [name, file] : parse_assignments(c.modalities, "--modality")) inputs.push_back(file);
  apps::RunFolder run(c.out, c.overwrite, inputs);
  apps::write_text_file(run.path("config.json"), resolved_json(c).dump(2) + "\n");
  start_checkpoints(c);
  // Opened before training, so a --save-model folder that would be refused costs no training.
  std::unique_ptr<apps::RunFolder> saved_model;
  if (!c.save_model.empty()) saved_model = std::make_unique<apps::RunFolder>(c.save_model, c.overwrite, inputs);

  std::string shape;
  for (const auto& m : data.modalities) shape += " " + m.name + " " + std::to_string(m.X.cols());
  const ProcessGroup* group = current_process_group();
  const std::string processes =
      group && group->size() > 1 ? "; " + std::to_string(group->size()) + " processes, each taking its share of every batch" : "";
  std::fprintf(stderr, "train_multitask: %lld cells;%s features; %zu classes; %zu split(s); device %s%s\n",
               static_cast<long long>(data.cells()), shape.c_str(), data.label_names.size(), splits.size(),
               device_name(device), processes.c_str());

  std::vector<VariantResult> results;
  if (variants.empty()) {
    VariantResult r{"multitask", {}};
    if (saved_model && splits.size() > 1)
      apps::note("--save-model: saves the model trained on " + splits[0].name + " (the first of " +
                 std::to_string(splits.size()) + " splits); every split's model is in model/<split>/ of the run");
    for (size_t k = 0; k < splits.size(); ++k) {
      const Split& s = splits[k];
      const std::string dir = folder(run, splits.size() > 1 ? s.name : "");
      std::vector<std::string> model_dirs = {folder(run, splits.size() > 1 ? "model/" + s.name : "model")};
      if (k == 0 && saved_model) model_dirs.push_back(staging_dir(*saved_model));
      nlohmann::json m = run_one(c, data, s, device, dir, true, s.name, model_dirs, splits.size(), true);
      print_summary(m, "held-out results (" + s.name + ")");
      r.per_split.push_back(std::move(m));
    }
    std::vector<nlohmann::json> per_split = r.per_split;
    results.push_back(std::move(r));
    for (auto& b : baseline_rows(per_split)) results.push_back(std::move(b));
  } else {
    // Baselines do not depend on the variant: scored once per split, in baselines/<split>/.
    std::vector<nlohmann::json> per_split;
    for (const auto& s : splits) {
      per_split.push_back(baselines_of_split(c, data, s));
      if (!per_split.back()["baselines"].empty()) {
        write_metrics(folder(run, "baselines/" + s.name), per_split.back());
        print_baselines(per_split.back());
      }
    }
    for (size_t v = 0; v < variants.size(); ++v) {
      VariantResult r{variants[v], {}};
      for (const auto& s : splits) {
        const std::string dir = folder(run, "variants/" + variants[v] + "/" + s.name);
        nlohmann::json m = run_one(configs[v], data, s, device, dir, false, variants[v] + " " + s.name);
        print_summary(m, variants[v] + " (" + s.name + ")");
        r.per_split.push_back(std::move(m));
      }
      // One picture per variant: the first split's loss curves, beside the per-split ones.
      std::filesystem::copy_file(folder(run, "variants/" + variants[v] + "/" + splits[0].name) + "loss_curves.svg",
                                 folder(run, "variants/" + variants[v]) + "loss_curves.svg");
      results.push_back(std::move(r));
    }
    for (auto& b : baseline_rows(per_split)) results.push_back(std::move(b));
  }
  if (results.size() > 1 || splits.size() > 1) {
    const ComparisonTable t = comparison_table(results);
    apps::write_text_file(run.path("table.md"), t.markdown);
    apps::write_text_file(run.path("table.csv"), t.csv);
    std::cout << "\n" << t.markdown << std::flush;
  }
  std::string notes;
  for (const auto& line : apps::run_notes()) notes += line + "\n";
  apps::write_text_file(run.path("warnings.txt"), notes);
  run.commit();
  if (!c.checkpoint_folder.empty()) std::filesystem::remove_all(c.checkpoint_folder);  // the run is safe now
  if (saved_model) {
    saved_model->commit();
    std::fprintf(stderr, "model in %s\n", c.save_model.c_str());
  }
  std::fprintf(stderr, "results in %s\n", c.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return apps::run_app("train_multitask", [&] { return run(argc, argv); }, /*data_parallel=*/true);
}
