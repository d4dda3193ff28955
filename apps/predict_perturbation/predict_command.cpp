// predict: apply a saved model to a file's control cells, for any cell type, including types
// the model never saw perturbed (scGen's use case). Writes predicted.h5ad, latent.h5ad for
// every cell, and metrics.json: scored where the file holds real perturbed cells of a type,
// and saying why not where it does not.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "apps/common/app_cli.h"
#include "apps/common/expression_input.h"
#include "apps/common/matrix_bridge.h"
#include "apps/common/run_folder.h"
#include "apps/common/run_notes.h"
#include "apps/predict_perturbation/commands.h"
#include "apps/predict_perturbation/encoded_input.h"
#include "apps/predict_perturbation/evaluate.h"
#include "apps/predict_perturbation/model_io.h"
#include "apps/predict_perturbation/model_registry.h"
#include "apps/predict_perturbation/outputs.h"
#include "autograd/error.h"
#include "base/text.h"

namespace cg::perturb {
namespace {

// The file's cells as the model sees them: its genes, and each cell's type and condition
// (every cell one group "all cells" when the file has no cell-type column; every cell a
// control when it has no condition column, with a note).
struct NewCells {
  omics::DenseMatrix X;
  omics::DataFrame obs;
  std::vector<std::string> types, conditions;
};

NewCells read_new_cells(const PredictConfig& p, const SavedModel& s, const std::string& type_key,
                        const std::string& condition_key) {
  const std::string preprocess = p.preprocess.empty() ? s.preprocess : p.preprocess;
  // An encoding is part of the model (fitted on its training cells): it is applied whenever the
  // model has one, and can be neither swapped for another nor added to a model without one.
  if (is_encoding(preprocess) && preprocess != s.preprocess)
    throw Error("--preprocess " + preprocess + ": the model was trained with --preprocess " + s.preprocess +
                "; an encoding belongs to the model (none or log1p choose how the file is read)");
  omics::AnnData a =
      apps::read_expression(p.data, reading_options(preprocess, p.layer, p.use_raw, p.allow_counts));
  NewCells n;
  n.X = apps::align_genes(a.dense_X(), a.var.index, s.genes, p.fill_missing, p.data);
  if (s.encoding) apply_encoding(*s.encoding, n.X, a.obs.index, p.data + " (--preprocess " + s.preprocess + ")");
  n.obs = a.obs;
  const size_t cells = a.obs.rows();
  if (a.obs.has(type_key)) {
    n.types = a.obs.labels(type_key);
  } else {
    if (!p.cell_types.empty())
      throw Error(p.data + ": obs has no column '" + type_key + "' (--cell-type-key) to find --cell-type " +
                  join(p.cell_types) + " in");
    apps::note(p.data + ": obs has no column '" + type_key + "'; all cells are predicted as one group, 'all cells'");
    n.types.assign(cells, "all cells");
  }
  if (a.obs.has(condition_key)) {
    n.conditions = a.obs.labels(condition_key);
  } else {
    apps::note(p.data + ": obs has no column '" + condition_key + "'; every cell is taken as a '" + s.control +
               "' cell");
    n.conditions.assign(cells, s.control);
  }
  return n;
}

std::vector<int64_t> rows_of(const NewCells& n, const std::string& type, const std::string& condition) {
  std::vector<int64_t> rows;
  for (size_t i = 0; i < n.types.size(); ++i)
    if (n.types[i] == type && n.conditions[i] == condition) rows.push_back(static_cast<int64_t>(i));
  return rows;
}

}  // namespace

int run_predict(PredictConfig& p) {
  p.validate();
  const Device device = apps::resolve_device(p.device);
  LoadedModel m = load_model_folder(p.model, device);
  const SavedModel& s = m.saved;
  // The model decodes as it was trained and benchmarked; a folder older than --decode has none
  // stored, and the default (direct) is what it did.
  const Decode decode = decode_named(m.config.decode, "--model " + p.model + ": config.json: decode");
  const std::string type_key = p.cell_type_key.empty() ? s.cell_type_key : p.cell_type_key;
  const std::string condition_key = p.condition_key.empty() ? s.condition_key : p.condition_key;
  if (p.to.empty()) {
    if (s.perturbed.size() != 1)
      throw Error("--to: the model predicts " + join_quoted(s.perturbed) + "; name the one to predict");
    p.to = s.perturbed.front();
  }
  const auto to_it = std::find(s.perturbed.begin(), s.perturbed.end(), p.to);
  if (to_it == s.perturbed.end())
    throw Error("--to '" + p.to + "': the model was trained on " + join_quoted(s.perturbed) + " only");
  const int to_index = static_cast<int>(to_it - s.perturbed.begin());

  const NewCells n = read_new_cells(p, s, type_key, condition_key);
  std::set<std::string> present(n.types.begin(), n.types.end());
  std::vector<std::string> types = p.cell_types;
  if (types.empty()) types.assign(present.begin(), present.end());
  for (const auto& t : types) {
    if (!present.count(t))
      throw Error(p.data + ": --cell-type '" + t + "' is not in obs '" + type_key +
                  "'; types present: " + join(present));
    if (rows_of(n, t, s.control).empty())
      throw Error(p.data + ": --cell-type '" + t + "' has no '" + s.control + "' cells to predict from");
  }
  apps::RunFolder run(p.out, p.overwrite, {p.data, p.model});
  apps::write_text_file(run.path("config.json"), resolved_json(p).dump(2) + "\n");
  std::fprintf(stderr, "predict_perturbation predict: %s model, %zu cell type(s) of %s to '%s', device %s\n",
               s.model.c_str(), types.size(), p.data.c_str(), p.to.c_str(), device_name(device));

  const PerturbModelEntry& model = perturb_model(s.model);
  const Response& response = s.responses.at(p.to);
  const auto& seen = s.types_with_value.count(p.to) ? s.types_with_value.at(p.to) : std::vector<std::string>{};
  const uint64_t seed = m.config.seeds.empty() ? 0 : m.config.seeds.front();
  PredictedCells out;
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& t : types) {
    const std::vector<int64_t> controls = rows_of(n, t, s.control);
    const omics::DenseMatrix control_X = apps::take_rows(n.X, controls);
    const Prediction pred = model.apply(ApplyContext{
        control_X, response, to_index, 1 + static_cast<int64_t>(s.perturbed.size()), device, m.network.get(), decode});
    nlohmann::json entry = {{"control_cells", controls.size()},
                            {"seen_perturbed_in_training", std::count(seen.begin(), seen.end(), t) > 0}};
    const std::vector<int64_t> real = rows_of(n, t, p.to);
    if (real.size() >= 2 && controls.size() >= 2) {
      // Scored as the benchmark scores a held-out type: the same settings and seeds.
      const EvalSettings reference_settings{m.config.top_degs, m.config.bootstrap, m.config.pca_components, 0};
      const EvalReference ref =
          make_reference(apps::take_rows(n.X, real), apps::take_rows(n.X, controls), reference_settings);
      entry["metrics"] = evaluate_prediction(
          pred.X, ref, EvalSettings{m.config.top_degs, m.config.bootstrap, m.config.pca_components, seed});
      const auto& r2 = entry["metrics"]["r2_all"];
      std::fprintf(stderr, "  %-14s %zu cells predicted; R2 all %.3f against %zu real '%s' cells\n", t.c_str(),
                   controls.size(), r2.is_null() ? NAN : r2.get<double>(), real.size(), p.to.c_str());
    } else {
      entry["metrics"] = nullptr;
      entry["no_metrics_because"] = "the file has " + std::to_string(real.size()) + " real '" + p.to +
                                    "' cell(s) of '" + t +
                                    "' (at least 2 are needed to score a prediction, and 2 control cells)";
      apps::note(t + ": " + std::to_string(controls.size()) +
                 " cells predicted; no metrics: " + entry["no_metrics_because"].get<std::string>());
    }
    metrics[t] = entry;
    out.X.conservativeResize(out.X.rows() + pred.X.rows(), pred.X.cols());
    out.X.bottomRows(pred.X.rows()) = pred.X;
    out.latent.conservativeResize(out.latent.rows() + pred.latent.rows(), pred.latent.cols());
    out.latent.bottomRows(pred.latent.rows()) = pred.latent;
    for (int64_t i : controls) {
      out.source_cells.push_back(n.obs.index[static_cast<size_t>(i)]);
      out.cell_types.push_back(t);
    }
  }
  write_predicted_cells(run.path("predicted.h5ad"), out, s.genes, type_key, condition_key, p.to);
  if (!model.network.empty())
    write_latent_h5ad(run.path("latent.h5ad"), perturb_network(model.network).latent(*m.network, n.X, device), n.obs);
  else apps::note("model '" + s.model + "' is a baseline without a latent space: no latent.h5ad");
  nlohmann::json all = {{"model", s.model}, {"to", p.to}};
  if (!model.network.empty()) all["decode"] = m.config.decode;
  if (s.encoding) all["values"] = encoded_space_note(s.preprocess);
  all["cell_types"] = metrics;
  all["warnings"] = apps::run_notes();
  apps::write_text_file(run.path("metrics.json"), all.dump(2) + "\n");
  write_run_notes(run);
  run.commit();
  std::fprintf(stderr, "predictions in %s (predicted.h5ad, latent.h5ad, metrics.json)\n", p.out.c_str());
  return 0;
}

}  // namespace cg::perturb
