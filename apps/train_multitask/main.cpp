// train_multitask: one model that translates between paired modalities, classifies cells and
// (optionally) conditions its decoders on a perturbation, UnitedNet-style; with an ablation
// mode that compares schedules, loss weightings and single-task baselines on the same splits.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "apps/common/app_cli.h"
#include "apps/common/app_main.h"
#include "apps/common/run_folder.h"
#include "apps/train_multitask/ablation.h"
#include "apps/train_multitask/attributions.h"
#include "apps/train_multitask/config.h"
#include "apps/train_multitask/data.h"
#include "apps/train_multitask/evaluate.h"
#include "apps/train_multitask/model.h"
#include "apps/train_multitask/outputs.h"
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

// Trains and evaluates one configuration on one split; writes everything into `dir`.
nlohmann::json run_one(const Config& c, const Dataset& data, const Split& split, Device device, const std::string& dir,
                       bool full_outputs, const std::string& label) {
  const auto prepared = prepare_modalities(data, split.train, c.zero_variance, full_outputs);
  TrainData td;
  ModelSpec spec;
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> features;
  for (const auto& p : prepared) {
    td.X.push_back(p.X);
    td.bce.push_back(p.bce);
    spec.inputs.push_back(p.X.cols());
    spec.bce.push_back(p.bce);
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
  UnitedNetModel model(spec, c.seed);

  const TrainResult tr = train_model(model, c, td, split, device, dir, label);
  Evaluation ev = evaluate_model(model, td, names, features, split, active.has("classification"), device, c.seed);
  ev.metrics["split"] = split.name;
  ev.metrics["train_seconds"] = tr.seconds;
  ev.metrics["best_epoch"] = tr.best_epoch;
  ev.metrics["epochs_run"] = tr.history.size();
  ev.metrics["best_val_loss"] = tr.best_val;
  nlohmann::json features_used = nlohmann::json::object();
  for (const auto& p : prepared) features_used[p.name] = p.X.cols();
  ev.metrics["features"] = features_used;
  write_metrics(dir, ev.metrics);
  write_loss_curves(dir + "loss_curves.svg", tr, label);
  write_latent(dir, ev, data, split, c.label_key);
  write_class_report(dir, ev, data, split);
  if (full_outputs) write_translations(dir, ev, data, prepared, split);
  if (full_outputs && c.attributions > 0)
    write_attributions(
        model, td, names, features, data.label_names, split, active.has("classification"), device,
        AttributionSettings{c.attributions, c.attribution_steps, c.attribution_cells, c.attribution_targets}, dir);
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
}

int run(int argc, char** argv) {
  Config c;
  CLI::App app{
      "Train a multi-task cross-modal model (translation, classification, perturbation) on paired AnnData files"};
  std::string config_file;
  app.add_option("--config", config_file, "JSON file with settings (flags override it)");
  add_flags(app, c);
  if (const auto done = apps::parse_command_line(app, argc, argv, [&] { load_config_files(argc, argv, c); }))
    return *done;
  c.validate();
  std::vector<std::string> variants = c.ablation;
  std::vector<Config> configs;
  for (const auto& v : variants) configs.push_back(apply_variant(c, v));  // unknown names fail before any work
  const Device device = apps::resolve_device(c.device);
  const Dataset data = load_dataset(c);
  const std::vector<Split> splits = make_splits(c, data);
  apps::RunFolder run(c.out, c.overwrite);
  apps::write_text_file(run.path("config.json"), resolved_json(c).dump(2) + "\n");

  std::string shape;
  for (const auto& m : data.modalities) shape += " " + m.name + " " + std::to_string(m.X.cols());
  std::fprintf(stderr, "train_multitask: %lld cells;%s features; %zu classes; %zu split(s); device %s\n",
               static_cast<long long>(data.cells()), shape.c_str(), data.label_names.size(), splits.size(),
               device_name(device));

  std::vector<VariantResult> results;
  if (variants.empty()) {
    VariantResult r{"multitask", {}};
    for (const auto& s : splits) {
      const std::string dir = folder(run, splits.size() > 1 ? s.name : "");
      nlohmann::json m = run_one(c, data, s, device, dir, true, s.name);
      print_summary(m, "held-out results (" + s.name + ")");
      r.per_split.push_back(std::move(m));
    }
    results.push_back(std::move(r));
  } else {
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
  }
  if (results.size() > 1 || splits.size() > 1) {
    const ComparisonTable t = comparison_table(results);
    apps::write_text_file(run.path("table.md"), t.markdown);
    apps::write_text_file(run.path("table.csv"), t.csv);
    std::cout << "\n" << t.markdown << std::flush;
  }
  run.commit();
  std::fprintf(stderr, "results in %s\n", c.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return apps::run_app("train_multitask", [&] { return run(argc, argv); });
}
