// benchmark: the leave-one-cell-type-out evaluation. For every held-out type and seed, each
// chosen network is trained on all other cells, every model predicts the type's perturbed
// cells from its controls, and the predictions are scored against the real ones. A technical
// duplicate (half of the real perturbed cells predicting the other half) is scored beside them,
// as the ceiling any prediction can reach on these cells.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>

#include "apps/common/app_cli.h"
#include "apps/common/matrix_bridge.h"
#include "apps/common/run_folder.h"
#include "apps/common/run_notes.h"
#include "apps/predict_perturbation/commands.h"
#include "apps/predict_perturbation/data.h"
#include "apps/predict_perturbation/encoded_input.h"
#include "apps/predict_perturbation/evaluate.h"
#include "apps/predict_perturbation/gene_sets.h"
#include "apps/predict_perturbation/held_out_checks.h"
#include "apps/predict_perturbation/lr_search.h"
#include "apps/predict_perturbation/model_registry.h"
#include "apps/predict_perturbation/outputs.h"
#include "apps/predict_perturbation/pathway_outputs.h"
#include "apps/predict_perturbation/table.h"
#include "apps/predict_perturbation/training_split.h"
#include "autograd/error.h"
#include "autograd/rng.h"
#include "base/text.h"
#include "nn/progress.h"
#include "omics/gene_stats.h"

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
  Decode decode;
};

// One model's predictions for every perturbed value, scored, written and collected.
// `row`: the model's name in the table and the run folder ("scgen", or "scgen+masked-linear" when
// several encoders run).
void predict_and_score(const RunContext& r, const PerturbData& d, const PerturbModelEntry& model,
                       const std::string& row, const HeldOutTask& task, const std::vector<EvalReference>& refs,
                       uint64_t seed, const TrainedNetwork* net, const PathwaySets* sets) {
  const std::string dir = safe_name(task.type) + "/" + safe_name(row) + "/seed" + std::to_string(seed) + "/";
  if (net && !net->history.history.empty() && model.writes_history)
    write_history(r.run.path(dir + "history.csv"), r.run.path(dir + "loss_curves.svg"), net->history,
                  row + " held out " + task.type);
  EvalSettings es{r.c.top_degs, r.c.bootstrap, r.c.pca_components, seed};
  const omics::DenseMatrix controls = apps::take_rows(d.X, task.controls);
  const TrainingCells cells{d.X, d.cell_types, d.conditions, task.train};
  PerturbModel* network = net ? net->model.get() : nullptr;
  PathwayFront* front = network ? network->pathway_front() : nullptr;
  if (front && (!sets || static_cast<size_t>(front->pathways()) != sets->ids.size()))
    throw Error(row + ": the pathway encoder's sets are not the run's --gene-sets selection");
  if (front && front->attention() && model.writes_history) {
    // What the held-out controls (the cells the network encodes for the prediction) attend to.
    write_attention_top_genes(r.run.path(dir + "attention_top_genes.csv"), *network, controls, d.gene_names,
                              sets->ids, r.device);
    if (front->attention()->config().mask == nn::PathwayMask::Soft)
      write_soft_mask_changes(r.run.path(dir + "soft_mask_links.csv"), *network, d.gene_names, sets->ids);
  }
  for (size_t p = 0; p < d.perturbed.size(); ++p) {
    const std::string& value = d.perturbed[p];
    const Response response = model.fit(FitContext{cells, r.c, d.perturbed, value, seed, r.device, network});
    const omics::DenseMatrix pred = model
                                        .apply(ApplyContext{controls, response, static_cast<int>(p),
                                                            r.conditions.cols(), r.device, network, r.decode})
                                        .X;
    nlohmann::json m = evaluate_prediction(pred, refs[p], es);
    m["train_seconds"] = net ? net->history.seconds : 0.0;
    if (net) m["best_epoch"] = net->history.best_epoch;
    if (net && !net->lr_search.is_null()) m["lr_search"] = net->lr_search;
    const std::string suffix = d.perturbed.size() > 1 ? "_" + safe_name(value) : "";
    if (sets)
      m["pathway_pearson"] = write_pathway_tables(r.run.path(dir + "pathways_" + safe_name(task.type) + suffix),
                                                  *sets, pred, refs[p],
                                                  row + ": held-out " + task.type + " (" + value + ")");
    // The predicted cells' pathway activities, as the network's front reads them.
    const std::optional<PathwayActivities> activities =
        front ? std::optional<PathwayActivities>({pathway_activities(*network, pred, r.device), sets->ids})
              : std::nullopt;
    write_prediction_h5ad(r.run.path(dir + "predicted" + suffix + ".h5ad"), pred, d, task.type, r.c.condition_key,
                          r.c.cell_type_key, value, activities ? &*activities : nullptr);
    const double r2_all = m["r2_all"].is_null() ? NAN : m["r2_all"].get<double>();
    write_mean_scatter(r.run.path(dir + "mean_scatter" + suffix + ".svg"), pred, refs[p], d,
                       row + ": held-out " + task.type + " (" + value + ")", r2_all);
    apps::write_text_file(r.run.path(dir + "metrics" + suffix + ".json"), m.dump(2) + "\n");
    print_scores(row, task.type, m);
    r.results.push_back(ResultRow{row, task.type, value, seed, m, model.network.empty() ? "" : r.c.decode,
                                  omics::column_means(pred), refs[p].real_mean});
  }
}

// The technical duplicate: the real perturbed cells of the type split in two random halves
// (seeded), one half scored as the prediction of the other against the same controls. It
// needs no training and shows how well the truth predicts itself with these many cells.
void score_duplicate(const RunContext& r, const PerturbData& d, const HeldOutTask& task, uint64_t seed) {
  const std::string dir = safe_name(task.type) + "/duplicate/seed" + std::to_string(seed) + "/";
  const omics::DenseMatrix controls = apps::take_rows(d.X, task.controls);
  const EvalSettings es{r.c.top_degs, r.c.bootstrap, r.c.pca_components, seed};
  for (size_t p = 0; p < d.perturbed.size(); ++p) {
    const std::string& value = d.perturbed[p];
    std::vector<int64_t> real = task.real[p];
    if (real.size() < 4) {  // each half is scored as a group of at least two cells
      apps::note(task.type + " (" + value + "): no duplicate row: " + std::to_string(real.size()) +
                 " real perturbed cells, expected at least 4 to split into two halves of 2 or more");
      continue;
    }
    Generator gen(seed, 6);
    for (size_t i = real.size() - 1; i > 0; --i) std::swap(real[i], real[gen.next_below(static_cast<uint32_t>(i + 1))]);
    const auto middle = real.begin() + static_cast<std::ptrdiff_t>(real.size() / 2);
    std::vector<int64_t> half_pred(real.begin(), middle), half_real(middle, real.end());
    std::sort(half_pred.begin(), half_pred.end());
    std::sort(half_real.begin(), half_real.end());
    const omics::DenseMatrix pred = apps::take_rows(d.X, half_pred);
    const EvalReference ref = make_reference(apps::take_rows(d.X, half_real), controls, es);
    nlohmann::json m = evaluate_prediction(pred, ref, es);
    m["train_seconds"] = 0.0;
    const std::string suffix = d.perturbed.size() > 1 ? "_" + safe_name(value) : "";
    apps::write_text_file(r.run.path(dir + "metrics" + suffix + ".json"), m.dump(2) + "\n");
    print_scores("duplicate", task.type, m);
    r.results.push_back(
        ResultRow{"duplicate", task.type, value, seed, m, "", omics::column_means(pred), ref.real_mean});
  }
}

// Every seed and model for one held-out cell type (the `t`-th of the sweep).
void run_held_out_type(const RunContext& r, const PerturbData& all_genes, const std::string& type,
                       nn::SweepProgress& sweep, int t) {
  const HeldOutTask task = make_task(all_genes, r.c.control, type);
  // --n-top-genes: the genes are chosen on this type's training cells only; so are rank's gene
  // medians (--preprocess rank), which the encoding of every cell then uses.
  PerturbData d = with_genes(all_genes, highly_variable_columns(all_genes, task.train, r.c.n_top_genes));
  if (is_encoding(r.c.preprocess)) encode_cells(d, r.c.preprocess, task.train);
  const std::optional<PathwaySets> sets = select_pathways(r.c, d.gene_names);  // on this type's genes
  const EvalSettings es{r.c.top_degs, r.c.bootstrap, r.c.pca_components, 0};
  std::vector<EvalReference> refs;
  for (size_t p = 0; p < d.perturbed.size(); ++p)
    refs.push_back(make_reference(apps::take_rows(d.X, task.real[p]), apps::take_rows(d.X, task.controls), es));
  for (size_t s = 0; s < r.c.seeds.size(); ++s) {
    const uint64_t seed = r.c.seeds[s];
    sweep.begin({t, static_cast<int>(s)});
    TrainingSplit split = split_training_cells(d, task.train, r.c.validation_fraction, seed);
    if (r.c.search_lr) drop_validation_of_type(split, d, type);
    // The networks once per encoder variant (all trained first); the rows in --models order, each
    // networked model once per variant, the baselines (which read no encoder) once.
    const std::vector<EncoderVariant> variants = encoder_variants(r.c);
    auto suffix = [&](const EncoderVariant& v) { return variants.size() > 1 ? "+" + v.label : std::string(); };
    std::vector<std::map<std::string, TrainedNetwork>> trained;
    for (const EncoderVariant& v : variants)
      trained.push_back(train_networks(with_encoder(r.c, v), d, r.conditions, r.device,
                                       type + suffix(v) + " seed " + std::to_string(seed), seed, split,
                                       sweep.prefix()));
    for (const auto& name : r.c.models) {
      const PerturbModelEntry& model = perturb_model(name);
      for (size_t k = 0; k < variants.size(); ++k) {
        const auto it = trained[k].find(model.network);
        const bool networked = it != trained[k].end();
        if (!networked && k > 0) break;  // a baseline: one row
        predict_and_score(r, d, model, networked ? name + suffix(variants[k]) : name, task, refs, seed,
                          networked ? &it->second : nullptr, sets ? &*sets : nullptr);
      }
    }
    score_duplicate(r, d, task, seed);
    sweep.finish();
  }
}

// What the reader of table.md needs to know to read it: how the latent models decoded, what the
// duplicate row is, where the type rank is missing.
std::string table_preface(const Config& c) {
  std::vector<std::string> latent;
  for (const auto& name : c.models)
    if (!perturb_model(name).network.empty()) latent.push_back(name);
  std::string s = encoded_space_note(c.preprocess);
  if (!s.empty()) s += " ";
  if (!latent.empty())
    s += "Decoding (" + join(latent) + "): " + c.decode +
         (c.decode == "residual" ? ", x_ctrl + Dec(z + delta) - Dec(z) (mtae: Dec(z, c_target) - Dec(z, c_control))"
                                 : ", Dec(z + delta) (mtae: Dec(z, c_target))") +
         ". ";
  s += "duplicate: half of the real perturbed cells predicting the other half (the ceiling). "
       "logFC: mean(pred) - mean(ctrl) vs mean(real) - mean(ctrl). "
       "type rank: where the type's own prediction ranks among the sweep's predicted means by distance to its real "
       "mean (0 best; needs two or more held-out types).\n\n";
  return s;
}

}  // namespace

int run_benchmark(Config& c) {
  c.validate();
  if (c.checkpoint_every > 0) throw Error("--checkpoint-every: applies to train, not to benchmark");
  const Device device = apps::resolve_device(c.device);
  PerturbData d = load_perturb_data(c);
  const std::vector<std::string> held_out = held_out_types_to_run(d, c);
  // A bad gene-set file is refused before the run folder exists.
  if (const auto sets = select_pathways(c, d.gene_names)) apps::note("--gene-sets: " + sets->summary);
  apps::RunFolder run(c.out, c.overwrite, {c.data});
  apps::write_text_file(run.path("config.json"), resolved_json(c).dump(2) + "\n");

  const omics::DenseMatrix conditions = condition_one_hot(d, c.control);
  std::vector<ResultRow> results;
  const RunContext ctx{c, conditions, device, run, results, decode_named(c.decode, "--decode")};
  std::fprintf(stderr, "predict_perturbation benchmark: %lld cells x %lld genes, %zu cell types, device %s\n",
               static_cast<long long>(d.X.rows()), static_cast<long long>(d.X.cols()), d.types.size(),
               device_name(device));
  nn::SweepProgress sweep({{"type", static_cast<int>(held_out.size())}, {"seed", static_cast<int>(c.seeds.size())}},
                          "benchmark");
  for (size_t t = 0; t < held_out.size(); ++t) run_held_out_type(ctx, d, held_out[t], sweep, static_cast<int>(t));
  add_type_ranks(results);  // needs every type of the sweep
  std::string jsonl;
  for (const auto& row : results) {
    nlohmann::json line = {
        {"model", row.model}, {"cell_type", row.cell_type}, {"perturbed", row.perturbed}, {"seed", row.seed}};
    if (!row.decode.empty()) line["decode"] = row.decode;
    line["metrics"] = row.metrics;
    jsonl += line.dump() + "\n";
  }
  apps::write_text_file(run.path("results.jsonl"), jsonl);
  SummaryTable table = summarize(results, d.perturbed.size() > 1, table_preface(c));
  if (const std::string searched = lr_search_summary(results); !searched.empty()) table.markdown += "\n" + searched;
  apps::write_text_file(run.path("table.md"), table.markdown);
  apps::write_text_file(run.path("table.csv"), table.csv);
  write_run_notes(run);
  run.commit();
  std::cout << table.markdown << std::flush;
  std::fprintf(stderr, "results in %s (table.md, table.csv, per-type folders)\n", c.out.c_str());
  return 0;
}

}  // namespace cg::perturb
