// benchmark --held-out-dose D: the dose case. The condition column holds numeric doses (or
// times); every cell of dose D is held out, the models train on the control and the other doses,
// and the models that interpolate doses predict D from the control cells (all cell types
// pooled: one population, as in the sci-CAR dexamethasone series). scVIDR's rule: the response
// is fitted at the largest training dose and scaled by log1p(D) / log1p(d_max); the shift
// baseline scales its gene shift the same way. Models that only predict values they saw
// (scgen, the MTAe family) are refused by name.
#include <cmath>
#include <cstdio>
#include <iostream>

#include "apps/common/app_cli.h"
#include "apps/common/matrix_bridge.h"
#include "apps/common/run_folder.h"
#include "apps/common/run_notes.h"
#include "apps/predict_perturbation/commands.h"
#include "apps/predict_perturbation/gene_sets.h"
#include "apps/predict_perturbation/data.h"
#include "apps/predict_perturbation/encoded_input.h"
#include "apps/predict_perturbation/evaluate.h"
#include "apps/predict_perturbation/lr_search.h"
#include "apps/predict_perturbation/model_registry.h"
#include "apps/predict_perturbation/outputs.h"
#include "apps/predict_perturbation/table.h"
#include "apps/predict_perturbation/training_split.h"
#include "autograd/error.h"
#include "base/text.h"
#include "nn/progress.h"
#include "omics/gene_stats.h"

namespace cg::perturb {
namespace {

// The dose of every distinct condition value; a value that is not a number is an error.
std::map<std::string, double> doses_of(const PerturbData& d, const Config& c) {
  std::map<std::string, double> out;
  for (const auto& v : d.conditions) {
    if (out.count(v)) continue;
    double x = 0;
    if (!parse_number(v, x) || !(x >= 0))
      throw Error(c.data + ": --held-out-dose needs doses in obs '" + c.condition_key +
                  "' (numbers >= 0), found the value '" + v + "'");
    out[v] = x;
  }
  return out;
}

// The condition value whose dose is `dose`, or an error listing the doses.
std::string value_of_dose(const std::map<std::string, double>& doses, double dose, const Config& c,
                          const std::string& flag) {
  for (const auto& [value, x] : doses)
    if (x == dose) return value;
  std::vector<std::string> present;
  for (const auto& [value, x] : doses) present.push_back(value);
  char b[64];
  std::snprintf(b, sizeof b, "%g", dose);
  throw Error(c.data + ": " + flag + " " + b + ": obs '" + c.condition_key + "' has no such dose; doses present: " +
              join(present));
}

}  // namespace

int run_dose_benchmark(Config& c) {
  c.validate();
  require_one_encoder(c, "--held-out-dose");
  const Device device = apps::resolve_device(c.device);
  std::vector<std::string> refused;
  for (const auto& m : c.models)
    if (!perturb_model(m).interpolates_doses) refused.push_back(m);
  if (!refused.empty()) {
    std::vector<std::string> able;
    for (const auto& m : perturb_models())
      if (m.interpolates_doses) able.push_back(m.name);
    throw Error("--held-out-dose: " + join(refused) +
                " cannot predict a dose it has not seen; the models that interpolate doses: " + join(able));
  }
  c.perturbed.clear();  // every non-control dose: the held-out one is predicted, the others train
  PerturbData d = load_perturb_data(c);
  const std::map<std::string, double> doses = doses_of(d, c);
  const std::string held = value_of_dose(doses, *c.held_out_dose, c, "--held-out-dose");
  if (held == c.control) throw Error("--held-out-dose: the control dose is not a perturbation to predict");
  std::vector<std::string> trained_doses;
  for (const auto& p : d.perturbed)
    if (p != held) trained_doses.push_back(p);
  if (trained_doses.empty())
    throw Error(c.data + ": --held-out-dose " + held + ": no other dose to learn the response from (doses: " +
                join(d.perturbed) + " besides the control '" + c.control + "')");

  std::vector<int64_t> train, controls, real;
  for (int64_t i = 0; i < static_cast<int64_t>(d.conditions.size()); ++i) {
    if (d.conditions[i] == held) real.push_back(i);
    else train.push_back(i);
    if (d.conditions[i] == c.control) controls.push_back(i);
  }
  if (is_encoding(c.preprocess)) encode_cells(d, c.preprocess, train);  // rank's medians: training doses only
  if (static_cast<int64_t>(controls.size()) < c.min_cells || static_cast<int64_t>(real.size()) < c.min_cells)
    throw Error(c.data + ": --held-out-dose " + held + ": " + std::to_string(controls.size()) + " control and " +
                std::to_string(real.size()) + " held-out cells, fewer than --min-cells " + std::to_string(c.min_cells));

  apps::RunFolder run(c.out, c.overwrite, {c.data});
  apps::write_text_file(run.path("config.json"), resolved_json(c).dump(2) + "\n");
  const omics::DenseMatrix conditions = condition_one_hot(d, c.control);
  const EvalSettings es0{c.top_degs, c.bootstrap, c.pca_components, 0};
  const EvalReference ref =
      make_reference(apps::take_rows(d.X, real), apps::take_rows(d.X, controls), es0);
  const omics::DenseMatrix control_x = apps::take_rows(d.X, controls);
  const TrainingCells cells{d.X, d.cell_types, d.conditions, train};
  const size_t held_index = static_cast<size_t>(
      std::find(d.perturbed.begin(), d.perturbed.end(), held) - d.perturbed.begin());
  std::fprintf(stderr, "predict_perturbation dose: %lld cells x %lld genes; dose %s held out (%zu cells), learned from %s\n",
               static_cast<long long>(d.X.rows()), static_cast<long long>(d.X.cols()), held.c_str(), real.size(),
               join(trained_doses).c_str());
  const std::string label = "dose " + held;
  const Decode decode = decode_named(c.decode, "--decode");
  std::vector<ResultRow> results;
  nn::SweepProgress sweep({{"seed", static_cast<int>(c.seeds.size())}}, "dose");
  for (size_t s = 0; s < c.seeds.size(); ++s) {
    const uint64_t seed = c.seeds[s];
    sweep.begin({static_cast<int>(s)});
    const TrainingSplit split = split_training_cells(d, train, c.validation_fraction, seed);
    const auto networks = train_networks(c, d, conditions, device, label + " seed " + std::to_string(seed), seed,
                                         split, sweep.prefix());
    for (const auto& name : c.models) {
      const PerturbModelEntry& model = perturb_model(name);
      const auto it = networks.find(model.network);
      PerturbModel* network = it == networks.end() ? nullptr : it->second.model.get();
      const Response response = model.fit(FitContext{cells, c, d.perturbed, held, seed, device, network});
      const omics::DenseMatrix pred =
          model
              .apply(ApplyContext{control_x, response, static_cast<int>(held_index), conditions.cols(), device, network, decode})
              .X;
      nlohmann::json m = evaluate_prediction(pred, ref, EvalSettings{c.top_degs, c.bootstrap, c.pca_components, seed});
      m["train_seconds"] = it == networks.end() ? 0.0 : it->second.history.seconds;
      if (response.contains("dose_scale")) m["dose_scale"] = response["dose_scale"];
      if (it != networks.end() && !it->second.lr_search.is_null()) m["lr_search"] = it->second.lr_search;
      const std::string dir = "dose_" + held + "/" + name + "/seed" + std::to_string(seed) + "/";
      write_prediction_h5ad(run.path(dir + "predicted.h5ad"), pred, d, label, c.condition_key, "population", held);
      apps::write_text_file(run.path(dir + "metrics.json"), m.dump(2) + "\n");
      print_scores(name, label, m);
      results.push_back(ResultRow{name, label, held, seed, m, model.network.empty() ? "" : c.decode,
                                  omics::column_means(pred), ref.real_mean});
    }
    sweep.finish();
  }
  const std::string values_note = encoded_space_note(c.preprocess);
  SummaryTable table = summarize(
      results, false,
      (values_note.empty() ? "" : values_note + " ") + "Dose " + held +
          " held out, predicted from the control cells; the response is learned at dose " +
          vidr_fit_value(trained_doses, trained_doses.front()) +
          " and scaled by log1p(dose) / log1p(largest dose) (scVIDR's rule; shift: its gene shift scaled the same "
          "way).\n\n");
  if (const std::string searched = lr_search_summary(results); !searched.empty()) table.markdown += "\n" + searched;
  apps::write_text_file(run.path("table.md"), table.markdown);
  apps::write_text_file(run.path("table.csv"), table.csv);
  write_run_notes(run);
  run.commit();
  std::cout << table.markdown << std::flush;
  std::fprintf(stderr, "results in %s (table.md, table.csv, dose_%s/)\n", c.out.c_str(), held.c_str());
  return 0;
}

}  // namespace cg::perturb
