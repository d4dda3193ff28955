// predict_perturbation: predict how a cell type never seen perturbed responds to the
// perturbation (leave one cell type out), with scGen, scVIDR, the multi-task autoencoder and
// two baselines, and score each prediction against the real perturbed cells.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>

#include "apps/common/app_cli.h"
#include "apps/common/app_main.h"
#include "apps/common/matrix_bridge.h"
#include "apps/common/perturbation_models.h"
#include "apps/common/run_folder.h"
#include "apps/predict_perturbation/config.h"
#include "apps/predict_perturbation/data.h"
#include "apps/predict_perturbation/evaluate.h"
#include "apps/predict_perturbation/model_registry.h"
#include "apps/predict_perturbation/outputs.h"
#include "apps/predict_perturbation/predictors.h"
#include "apps/predict_perturbation/table.h"
#include "apps/predict_perturbation/trainer.h"
#include "autograd/error.h"
#include "omics/splits.h"

using namespace cg;
using namespace cg::perturb;

namespace {

std::string safe_name(std::string s) {
  for (char& ch : s)
    if (ch == '/' || ch == ' ' || ch == '\\') ch = '_';
  return s;
}

void add_flags(CLI::App& app, Config& c, std::string& config_file, int64_t& single_seed) {
  app.add_option("--config", config_file, "JSON file with settings (flags override it)");
  app.add_option("--data", c.data, "AnnData .h5ad with log-normalised expression");
  app.add_option("--condition-key", c.condition_key, "obs column with the condition");
  app.add_option("--control", c.control, "value of the condition column for control cells");
  app.add_option("--perturbed", c.perturbed, "perturbed condition value(s) (default: all non-control values)")
      ->delimiter(',');
  app.add_option("--cell-type-key", c.cell_type_key, "obs column with the cell type");
  app.add_option("--held-out", c.held_out, "cell type to hold out, or 'all' for the leave-one-out sweep");
  app.add_option("--models", c.models, "comma-separated:" + perturb_models_help())->delimiter(',');
  app.add_option("--seeds", c.seeds, "comma-separated seeds (results are averaged)")->delimiter(',');
  app.add_option("--seed", single_seed, "a single seed (same as --seeds N)");
  app.add_option("--epochs", c.epochs, "maximum epochs");
  app.add_option("--patience", c.patience, "early-stopping patience (epochs without a better validation loss)");
  app.add_option("--batch-size", c.batch_size, "minibatch size");
  app.add_option("--lr", c.lr, "Adam learning rate");
  app.add_option("--validation-fraction", c.validation_fraction, "validation share of each (type, condition) group");
  app.add_option("--alpha", c.alpha, "scGen KL weight");
  app.add_option("--dropout", c.dropout, "dropout rate");
  app.add_option("--latent", c.latent, "scGen latent size");
  app.add_flag("--adversarial", c.adversarial, "MTAe: train a latent discriminator (control vs perturbed)");
  app.add_option("--top-degs", c.top_degs, "number of top DEGs for R^2 and common DEGs");
  app.add_option("--bootstrap", c.bootstrap, "bootstrap resamples");
  app.add_option("--pca-components", c.pca_components, "PCA components for distances");
  app.add_option("--device", c.device, "cpu, cuda or auto");
  app.add_option("--out", c.out, "output folder (refused if it holds a run, unless --overwrite)");
  app.add_flag("--overwrite", c.overwrite, "replace an earlier run in --out");
}

// Everything one run shares across held-out types and seeds.
struct RunContext {
  const Config& c;
  const PerturbData& d;
  const omics::DenseMatrix& conditions;
  Device device;
  apps::RunFolder& run;
  std::vector<ResultRow>& results;
  std::string& jsonl;
};

// Trains, for one held-out type and seed, every network the chosen models name (once each, in
// registry order).
std::map<std::string, TrainedNetwork> train_networks(const RunContext& r, const std::string& type, uint64_t seed,
                                                     const std::vector<int64_t>& train_rows,
                                                     const std::vector<int64_t>& val_rows) {
  std::map<std::string, TrainedNetwork> out;
  for (const NetworkEntry& net : perturb_networks()) {
    const bool needed = std::any_of(r.c.models.begin(), r.c.models.end(),
                                    [&](const std::string& m) { return perturb_model(m).network == net.name; });
    if (!needed) continue;
    TrainedNetwork t;
    t.model = net.make(r.d.X.cols(), r.conditions.cols(), r.c, seed);
    const TrainSettings ts{r.c.epochs,
                           r.c.patience,
                           r.c.batch_size,
                           r.c.lr,
                           seed,
                           r.device,
                           net.name + " " + type + " seed " + std::to_string(seed)};
    t.history = train_model(*t.model, r.d.X, r.conditions, train_rows, val_rows, ts);
    out.emplace(net.name, std::move(t));
  }
  return out;
}

// One model's predictions for every perturbed value, scored, written and collected.
void predict_and_score(const RunContext& r, const PerturbModelEntry& model, const HeldOutTask& task,
                       const std::vector<EvalReference>& refs, uint64_t seed, const TrainedNetwork* net) {
  const auto& d = r.d;
  const std::string dir = safe_name(task.type) + "/" + model.name + "/seed" + std::to_string(seed) + "/";
  if (net && !net->history.history.empty() && model.writes_history)
    write_history(r.run.path(dir + "history.csv"), r.run.path(dir + "loss_curves.svg"), net->history,
                  model.name + " held out " + task.type);
  EvalSettings es{r.c.top_degs, r.c.bootstrap, r.c.pca_components, seed};
  for (size_t p = 0; p < d.perturbed.size(); ++p) {
    const std::string& value = d.perturbed[p];
    const PredictionContext ctx{d,
                                task,
                                r.c,
                                value,
                                static_cast<int>(p),
                                r.conditions.cols(),
                                seed,
                                r.device,
                                net ? net->model.get() : nullptr};
    const omics::DenseMatrix pred = model.predict(ctx);
    nlohmann::json m = evaluate_prediction(pred, refs[p], es);
    m["train_seconds"] = net ? net->history.seconds : 0.0;
    if (net) m["best_epoch"] = net->history.best_epoch;
    const std::string suffix = d.perturbed.size() > 1 ? "_" + safe_name(value) : "";
    write_prediction_h5ad(r.run.path(dir + "predicted" + suffix + ".h5ad"), pred, d, task.type, r.c.condition_key,
                          r.c.cell_type_key, value);
    const double r2_all = m["r2_all"].is_null() ? NAN : m["r2_all"].get<double>();
    write_mean_scatter(r.run.path(dir + "mean_scatter" + suffix + ".svg"), pred, refs[p], d,
                       model.name + ": held-out " + task.type + " (" + value + ")", r2_all);
    apps::write_text_file(r.run.path(dir + "metrics" + suffix + ".json"), m.dump(2) + "\n");
    r.jsonl +=
        nlohmann::json{
            {"model", model.name}, {"cell_type", task.type}, {"perturbed", value}, {"seed", seed}, {"metrics", m}}
            .dump() +
        "\n";
    std::fprintf(stderr, "  %-8s %-14s R2 all %.3f  R2 top %.3f  common DEGs %d\n", model.name.c_str(),
                 task.type.c_str(), r2_all, m["r2_top"].is_null() ? NAN : m["r2_top"].get<double>(),
                 m["common_degs"].get<int>());
    r.results.push_back(ResultRow{model.name, task.type, value, seed, m});
  }
}

// Every seed and model for one held-out cell type.
void run_held_out_type(const RunContext& r, const std::string& type) {
  const auto& d = r.d;
  const HeldOutTask task = make_task(d, r.c.control, type);
  const EvalSettings es{r.c.top_degs, r.c.bootstrap, r.c.pca_components, 0};
  std::vector<EvalReference> refs;
  for (size_t p = 0; p < d.perturbed.size(); ++p)
    refs.push_back(make_reference(apps::take_rows(d.X, task.real[p]), apps::take_rows(d.X, task.controls), es));
  // Validation split of the training cells, stratified by (cell type, condition).
  std::vector<std::string> tr_types, tr_conds;
  for (int64_t i : task.train) {
    tr_types.push_back(d.cell_types[i]);
    tr_conds.push_back(d.conditions[i]);
  }
  for (uint64_t seed : r.c.seeds) {
    const omics::TrainValSplit split = omics::stratified_train_val(tr_types, tr_conds, r.c.validation_fraction, seed);
    std::vector<int64_t> train_rows, val_rows;
    for (int64_t i : split.train) train_rows.push_back(task.train[i]);
    for (int64_t i : split.validation) val_rows.push_back(task.train[i]);
    const auto networks = train_networks(r, type, seed, train_rows, val_rows);
    for (const auto& name : r.c.models) {
      const PerturbModelEntry& model = perturb_model(name);
      const auto it = networks.find(model.network);
      predict_and_score(r, model, task, refs, seed, it == networks.end() ? nullptr : &it->second);
    }
  }
}

int run(int argc, char** argv) {
  Config c;
  CLI::App app{"Predict the perturbation response of a held-out cell type (scGen, scVIDR, MTAe, baselines)"};
  std::string config_file;
  int64_t single_seed = -1;
  add_flags(app, c, config_file, single_seed);
  if (const auto done = apps::parse_command_line(app, argc, argv, [&] { load_config_files(argc, argv, c); }))
    return *done;
  if (single_seed >= 0) c.seeds = {static_cast<uint64_t>(single_seed)};
  c.validate();
  const Device device = apps::resolve_device(c.device);
  PerturbData d = load_perturb_data(c);
  apps::RunFolder run(c.out, c.overwrite);
  apps::write_text_file(run.path("config.json"), resolved_json(c).dump(2) + "\n");

  const omics::DenseMatrix conditions = condition_one_hot(d, c.control);
  std::vector<ResultRow> results;
  std::string jsonl;
  const RunContext ctx{c, d, conditions, device, run, results, jsonl};
  std::fprintf(stderr, "predict_perturbation: %lld cells x %lld genes, %zu cell types, device %s\n",
               static_cast<long long>(d.X.rows()), static_cast<long long>(d.X.cols()), d.types.size(),
               device_name(device));
  for (const auto& type : c.held_out == "all" ? d.types : std::vector<std::string>{c.held_out})
    run_held_out_type(ctx, type);
  apps::write_text_file(run.path("results.jsonl"), jsonl);
  const SummaryTable table = summarize(results, d.perturbed.size() > 1);
  apps::write_text_file(run.path("table.md"), table.markdown);
  apps::write_text_file(run.path("table.csv"), table.csv);
  run.commit();
  std::cout << table.markdown << std::flush;
  std::fprintf(stderr, "results in %s (table.md, table.csv, per-type folders)\n", c.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return apps::run_app("predict_perturbation", [&] { return run(argc, argv); });
}
