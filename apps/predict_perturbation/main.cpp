// predict_perturbation: predict how a cell type never seen perturbed responds to the
// perturbation (leave one cell type out), with scGen, scVIDR, the multi-task autoencoder and
// two baselines, and score each prediction against the real perturbed cells.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "apps/common/app_main.h"
#include "apps/common/matrix_bridge.h"
#include "apps/common/run_folder.h"
#include "apps/predict_perturbation/config.h"
#include "apps/predict_perturbation/data.h"
#include "apps/predict_perturbation/evaluate.h"
#include "apps/common/perturbation_models.h"
#include "apps/predict_perturbation/outputs.h"
#include "apps/predict_perturbation/predictors.h"
#include "apps/predict_perturbation/table.h"
#include "apps/predict_perturbation/trainer.h"
#include "omics/splits.h"

using namespace cg;
using namespace cg::perturb;

namespace {

// --config is read before the other flags so that flags given on the command line win.
void load_config_file(int argc, char** argv, Config& c) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], path;
    if (a == "--config" && i + 1 < argc) path = argv[i + 1];
    else if (a.rfind("--config=", 0) == 0) path = a.substr(9);
    else continue;
    std::ifstream f(path);
    if (!f) throw std::runtime_error("--config " + path + ": cannot open the file");
    nlohmann::json j;
    try {
      f >> j;
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error("--config " + path + ": not valid JSON (" + e.what() + ")");
    }
    merge_json(c, j, path);
  }
}

std::string safe_name(std::string s) {
  for (char& ch : s)
    if (ch == '/' || ch == ' ' || ch == '\\') ch = '_';
  return s;
}

Device resolve_device(const std::string& d) {
  if (d == "cpu") return Device::CPU;
  if (d == "cuda") {
    if (!cuda_available()) throw std::runtime_error("--device cuda: no CUDA device is available (use --device cpu or auto)");
    return Device::CUDA;
  }
  return cuda_available() ? Device::CUDA : Device::CPU;
}

int run(int argc, char** argv) {
  Config c;
  CLI::App app{"Predict the perturbation response of a held-out cell type (scGen, scVIDR, MTAe, baselines)"};
  std::string config_file;
  int64_t single_seed = -1;
  app.add_option("--config", config_file, "JSON file with settings (flags override it)");
  app.add_option("--data", c.data, "AnnData .h5ad with log-normalised expression");
  app.add_option("--condition-key", c.condition_key, "obs column with the condition");
  app.add_option("--control", c.control, "value of the condition column for control cells");
  app.add_option("--perturbed", c.perturbed, "perturbed condition value(s) (default: all non-control values)")->delimiter(',');
  app.add_option("--cell-type-key", c.cell_type_key, "obs column with the cell type");
  app.add_option("--held-out", c.held_out, "cell type to hold out, or 'all' for the leave-one-out sweep");
  app.add_option("--models", c.models, "comma-separated: scgen, vidr, mtae, control, shift")->delimiter(',');
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
  load_config_file(argc, argv, c);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (single_seed >= 0) c.seeds = {static_cast<uint64_t>(single_seed)};
  c.validate();
  const Device device = resolve_device(c.device);
  PerturbData d = load_perturb_data(c);
  apps::RunFolder run(c.out, c.overwrite);
  apps::write_text_file(run.path("config.json"), to_json(c).dump(2) + "\n");

  const std::vector<std::string> types = c.held_out == "all" ? d.types : std::vector<std::string>{c.held_out};
  const omics::DenseMatrix conditions = condition_one_hot(d, c.control);
  const int n_conditions = static_cast<int>(conditions.cols());
  const bool want_vae = std::count(c.models.begin(), c.models.end(), "scgen") || std::count(c.models.begin(), c.models.end(), "vidr");
  std::vector<ResultRow> results;
  std::ofstream jsonl(run.path("results.jsonl"));

  std::fprintf(stderr, "predict_perturbation: %lld cells x %lld genes, %zu cell types, device %s\n",
               static_cast<long long>(d.X.rows()), static_cast<long long>(d.X.cols()), d.types.size(), device_name(device));
  for (const auto& type : types) {
    const HeldOutTask task = make_task(d, c.control, type);
    EvalSettings es{c.top_degs, c.bootstrap, c.pca_components, 0};
    std::vector<EvalReference> refs;
    for (size_t p = 0; p < d.perturbed.size(); ++p)
      refs.push_back(make_reference(apps::take_rows(d.X, task.real[p]), apps::take_rows(d.X, task.controls), es));
    // Validation split of the training cells, stratified by (cell type, condition).
    std::vector<std::string> tr_types, tr_conds;
    for (int64_t i : task.train) { tr_types.push_back(d.cell_types[i]); tr_conds.push_back(d.conditions[i]); }

    for (uint64_t seed : c.seeds) {
      const omics::TrainValSplit split = omics::stratified_train_val(tr_types, tr_conds, c.validation_fraction, seed);
      std::vector<int64_t> train_rows, val_rows;
      for (int64_t i : split.train) train_rows.push_back(task.train[i]);
      for (int64_t i : split.validation) val_rows.push_back(task.train[i]);
      TrainSettings ts{c.epochs, c.patience, c.batch_size, c.lr, seed, device, ""};

      std::unique_ptr<ScGenVAE> vae;
      TrainHistory vae_history;
      if (want_vae) {
        vae = std::make_unique<ScGenVAE>(d.X.cols(), c.latent, c.dropout, c.alpha, seed);
        ts.label = "scgen " + type + " seed " + std::to_string(seed);
        vae_history = train_model(*vae, d.X, conditions, train_rows, val_rows, ts);
      }
      std::unique_ptr<MultiTaskAE> mtae;
      TrainHistory mtae_history;
      if (std::count(c.models.begin(), c.models.end(), "mtae")) {
        mtae = std::make_unique<MultiTaskAE>(d.X.cols(), n_conditions, c.dropout, c.adversarial, seed, c.lr);
        ts.label = "mtae " + type + " seed " + std::to_string(seed);
        mtae_history = train_model(*mtae, d.X, conditions, train_rows, val_rows, ts);
      }

      for (const auto& model : c.models) {
        const std::string dir = safe_name(type) + "/" + model + "/seed" + std::to_string(seed) + "/";
        const TrainHistory* hist = model == "mtae" ? &mtae_history : (model == "scgen" || model == "vidr") ? &vae_history : nullptr;
        if (hist && !hist->epochs.empty() && model != "vidr")
          write_history(run.path(dir + "history.csv"), run.path(dir + "loss_curves.svg"), *hist, model + " held out " + type);
        for (size_t p = 0; p < d.perturbed.size(); ++p) {
          const std::string& value = d.perturbed[p];
          omics::DenseMatrix pred;
          if (model == "control") pred = predict_control(d, task);
          else if (model == "shift") pred = predict_shift(d, task, c.control, value);
          else if (model == "scgen") pred = predict_scgen(*vae, d, task, c.control, value, seed, device);
          else if (model == "vidr") pred = predict_vidr(*vae, d, task, c.control, value, device);
          else pred = predict_mtae(*mtae, d, task, static_cast<int>(p) + 1, n_conditions, device);
          es.seed = seed;
          nlohmann::json m = evaluate_prediction(pred, refs[p], es);
          m["train_seconds"] = hist ? hist->seconds : 0.0;
          if (hist) m["best_epoch"] = hist->best_epoch;
          const std::string suffix = d.perturbed.size() > 1 ? "_" + safe_name(value) : "";
          write_prediction_h5ad(run.path(dir + "predicted" + suffix + ".h5ad"), pred, d, type, c.condition_key, c.cell_type_key, value);
          write_mean_scatter(run.path(dir + "mean_scatter" + suffix + ".svg"), pred, refs[p], d,
                             model + ": held-out " + type + " (" + value + ")", m["r2_all"].is_null() ? NAN : m["r2_all"].get<double>());
          apps::write_text_file(run.path(dir + "metrics" + suffix + ".json"), m.dump(2) + "\n");
          ResultRow row{model, type, value, seed, m};
          jsonl << nlohmann::json{{"model", model}, {"cell_type", type}, {"perturbed", value}, {"seed", seed}, {"metrics", m}}.dump() << "\n";
          std::fprintf(stderr, "  %-8s %-14s R2 all %.3f  R2 top %.3f  common DEGs %d\n", model.c_str(), type.c_str(),
                       m["r2_all"].is_null() ? NAN : m["r2_all"].get<double>(), m["r2_top"].is_null() ? NAN : m["r2_top"].get<double>(),
                       m["common_degs"].get<int>());
          results.push_back(std::move(row));
        }
      }
    }
  }
  jsonl.close();
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
