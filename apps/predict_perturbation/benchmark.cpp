// benchmark: the leave-one-cell-type-out evaluation. For every held-out type and seed, each
// chosen network is trained on all other cells, every model predicts the type's perturbed
// cells from its controls, and the predictions are scored against the real ones.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>

#include "apps/common/app_cli.h"
#include "apps/common/matrix_bridge.h"
#include "apps/common/run_folder.h"
#include "apps/common/run_notes.h"
#include "apps/predict_perturbation/commands.h"
#include "apps/predict_perturbation/data.h"
#include "apps/predict_perturbation/evaluate.h"
#include "apps/predict_perturbation/held_out_checks.h"
#include "apps/predict_perturbation/model_registry.h"
#include "apps/predict_perturbation/outputs.h"
#include "apps/predict_perturbation/table.h"
#include "apps/predict_perturbation/training_split.h"
#include "autograd/error.h"
#include "nn/progress.h"

namespace cg::perturb {
namespace {

std::string safe_name(std::string s) {
  for (char& ch : s)
    if (ch == '/' || ch == ' ' || ch == '\\') ch = '_';
  return s;
}

// Everything one run shares across held-out types and seeds.
struct RunContext {
  const Config& c;
  const omics::DenseMatrix& conditions;
  Device device;
  apps::RunFolder& run;
  std::vector<ResultRow>& results;
  std::string& jsonl;
};

// One model's predictions for every perturbed value, scored, written and collected.
void predict_and_score(const RunContext& r, const PerturbData& d, const PerturbModelEntry& model,
                       const HeldOutTask& task, const std::vector<EvalReference>& refs, uint64_t seed,
                       const TrainedNetwork* net) {
  const std::string dir = safe_name(task.type) + "/" + model.name + "/seed" + std::to_string(seed) + "/";
  if (net && !net->history.history.empty() && model.writes_history)
    write_history(r.run.path(dir + "history.csv"), r.run.path(dir + "loss_curves.svg"), net->history,
                  model.name + " held out " + task.type);
  EvalSettings es{r.c.top_degs, r.c.bootstrap, r.c.pca_components, seed};
  const omics::DenseMatrix controls = apps::take_rows(d.X, task.controls);
  const TrainingCells cells{d.X, d.cell_types, d.conditions, task.train};
  PerturbModel* network = net ? net->model.get() : nullptr;
  for (size_t p = 0; p < d.perturbed.size(); ++p) {
    const std::string& value = d.perturbed[p];
    const Response response = model.fit(FitContext{cells, r.c, d.perturbed, value, seed, r.device, network});
    const omics::DenseMatrix pred =
        model.apply(ApplyContext{controls, response, static_cast<int>(p), r.conditions.cols(), r.device, network}).X;
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

// Every seed and model for one held-out cell type (the `t`-th of the sweep).
void run_held_out_type(const RunContext& r, const PerturbData& all_genes, const std::string& type,
                       nn::SweepProgress& sweep, int t) {
  const HeldOutTask task = make_task(all_genes, r.c.control, type);
  // --n-top-genes: the genes are chosen on this type's training cells only.
  const PerturbData d = with_genes(all_genes, highly_variable_columns(all_genes, task.train, r.c.n_top_genes));
  const EvalSettings es{r.c.top_degs, r.c.bootstrap, r.c.pca_components, 0};
  std::vector<EvalReference> refs;
  for (size_t p = 0; p < d.perturbed.size(); ++p)
    refs.push_back(make_reference(apps::take_rows(d.X, task.real[p]), apps::take_rows(d.X, task.controls), es));
  for (size_t s = 0; s < r.c.seeds.size(); ++s) {
    const uint64_t seed = r.c.seeds[s];
    sweep.begin({t, static_cast<int>(s)});
    const TrainingSplit split = split_training_cells(d, task.train, r.c.validation_fraction, seed);
    const auto networks = train_networks(r.c, d, r.conditions, r.device, type + " seed " + std::to_string(seed), seed,
                                         split, sweep.prefix());
    for (const auto& name : r.c.models) {
      const PerturbModelEntry& model = perturb_model(name);
      const auto it = networks.find(model.network);
      predict_and_score(r, d, model, task, refs, seed, it == networks.end() ? nullptr : &it->second);
    }
    sweep.finish();
  }
}

}  // namespace

int run_benchmark(Config& c) {
  c.validate();
  const Device device = apps::resolve_device(c.device);
  PerturbData d = load_perturb_data(c);
  const std::vector<std::string> held_out = held_out_types_to_run(d, c);
  apps::RunFolder run(c.out, c.overwrite, {c.data});
  apps::write_text_file(run.path("config.json"), resolved_json(c).dump(2) + "\n");

  const omics::DenseMatrix conditions = condition_one_hot(d, c.control);
  std::vector<ResultRow> results;
  std::string jsonl;
  const RunContext ctx{c, conditions, device, run, results, jsonl};
  std::fprintf(stderr, "predict_perturbation benchmark: %lld cells x %lld genes, %zu cell types, device %s\n",
               static_cast<long long>(d.X.rows()), static_cast<long long>(d.X.cols()), d.types.size(),
               device_name(device));
  nn::SweepProgress sweep({{"type", static_cast<int>(held_out.size())}, {"seed", static_cast<int>(c.seeds.size())}},
                          "benchmark");
  for (size_t t = 0; t < held_out.size(); ++t) run_held_out_type(ctx, d, held_out[t], sweep, static_cast<int>(t));
  apps::write_text_file(run.path("results.jsonl"), jsonl);
  const SummaryTable table = summarize(results, d.perturbed.size() > 1);
  apps::write_text_file(run.path("table.md"), table.markdown);
  apps::write_text_file(run.path("table.csv"), table.csv);
  write_run_notes(run);
  run.commit();
  std::cout << table.markdown << std::flush;
  std::fprintf(stderr, "results in %s (table.md, table.csv, per-type folders)\n", c.out.c_str());
  return 0;
}

}  // namespace cg::perturb
