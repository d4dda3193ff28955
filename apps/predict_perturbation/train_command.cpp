// train: fit one model on every cell of a file (control and perturbed, all cell types) and
// keep it as a model folder: model/ inside the run folder, and --save-model DIR when given.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>

#include "apps/common/app_cli.h"
#include "apps/common/checkpoint_folder.h"
#include "apps/common/matrix_bridge.h"
#include "apps/common/run_folder.h"
#include "apps/common/run_notes.h"
#include "apps/predict_perturbation/commands.h"
#include "apps/predict_perturbation/encoded_input.h"
#include "apps/predict_perturbation/gene_sets.h"
#include "apps/predict_perturbation/model_io.h"
#include "apps/predict_perturbation/outputs.h"
#include "apps/predict_perturbation/pathway_outputs.h"
#include "apps/predict_perturbation/training_split.h"
#include "autograd/error.h"
#include "base/text.h"

namespace cg::perturb {
namespace {

// What the model needs of the data: every value's response is learned from cell types that
// have both conditions (one is enough, except for vidr's regression).
void check_trainable(const PerturbData& d, const Config& c, const PerturbModelEntry& model) {
  for (const auto& p : d.perturbed) {
    const std::string fit = vidr_fit_value(d.perturbed, p);
    std::set<std::string> with_control, with_value;
    for (size_t i = 0; i < d.conditions.size(); ++i) {
      if (d.conditions[i] == c.control) with_control.insert(d.cell_types[i]);
      if (d.conditions[i] == fit) with_value.insert(d.cell_types[i]);
    }
    std::vector<std::string> both;
    for (const auto& t : with_value)
      if (with_control.count(t)) both.push_back(t);
    const size_t needed = std::max(1, model.min_types_with_both);
    if (both.size() < needed)
      throw Error(c.data + ": --model " + model.name + " learns the response to '" + fit +
                  "' from cell types with "
                  "both '" +
                  c.control + "' and '" + fit + "' cells; expected at least " + std::to_string(needed) + ", found " +
                  std::to_string(both.size()) + (both.empty() ? "" : " (" + join(both) + ")"));
  }
}

SavedModel describe(const Config& c, const PerturbData& d, const std::vector<int64_t>& rows) {
  SavedModel s;
  s.model = c.models.front();
  s.genes = d.gene_names;
  s.condition_key = c.condition_key;
  s.control = c.control;
  s.cell_type_key = c.cell_type_key;
  s.perturbed = d.perturbed;
  s.preprocess = c.preprocess;
  std::set<std::string> types;
  for (int64_t i : rows) {
    types.insert(d.cell_types[i]);
    if (d.conditions[i] != c.control) {
      auto& list = s.types_with_value[d.conditions[i]];
      if (std::find(list.begin(), list.end(), d.cell_types[i]) == list.end()) list.push_back(d.cell_types[i]);
    }
  }
  s.cell_types.assign(types.begin(), types.end());
  for (auto& [value, list] : s.types_with_value) std::sort(list.begin(), list.end());
  return s;
}

}  // namespace

int run_train(Config& c) {
  c.validate();
  require_one_encoder(c, "train");
  if (c.models.size() != 1)
    throw Error("train: --model names the one model to train and save; found " + std::to_string(c.models.size()) +
                " (" + join(c.models) + ")");
  if (c.seeds.size() != 1) throw Error("train: one --seed; found " + std::to_string(c.seeds.size()) + " seeds");
  const PerturbModelEntry& model = perturb_model(c.models.front());
  const Device device = apps::resolve_device(c.device);
  const uint64_t seed = c.seeds.front();
  PerturbData all_genes = load_perturb_data(c);
  check_trainable(all_genes, c, model);
  const std::vector<int64_t> rows = cells_in_use(all_genes, c.control);
  PerturbData d = with_genes(all_genes, highly_variable_columns(all_genes, rows, c.n_top_genes));
  // A bad gene-set file is refused before the run folder exists.
  if (const auto sets = select_pathways(c, d.gene_names)) apps::note("--gene-sets: " + sets->summary);
  std::optional<omics::InputEncoding> encoding;
  if (is_encoding(c.preprocess)) encoding = encode_cells(d, c.preprocess, rows);
  apps::RunFolder run(c.out, c.overwrite, {c.data});
  std::unique_ptr<apps::RunFolder> saved_copy;
  if (!c.save_model.empty())
    saved_copy = std::make_unique<apps::RunFolder>(c.save_model, c.overwrite, std::vector<std::string>{c.data});
  apps::write_text_file(run.path("config.json"), resolved_json(c).dump(2) + "\n");
  if (c.checkpoint_every > 0 && c.resume.empty()) apps::start_checkpoint_folder(c.out, resolved_json(c));

  std::fprintf(stderr, "predict_perturbation train: %s on %zu cells x %lld genes, %zu cell types, device %s\n",
               model.name.c_str(), rows.size(), static_cast<long long>(d.X.cols()), d.types.size(),
               device_name(device));
  const omics::DenseMatrix conditions = condition_one_hot(d, c.control);
  const TrainingSplit split = split_training_cells(d, rows, c.validation_fraction, seed);
  auto networks = train_networks(c, d, conditions, device, "seed " + std::to_string(seed), seed, split);
  const auto net = networks.find(model.network);
  PerturbModel* network = net == networks.end() ? nullptr : net->second.model.get();

  SavedModel saved = describe(c, d, rows);
  saved.encoding = encoding;
  if (network) saved.gene_encoder = net->second.gene_encoder;
  const TrainingCells cells{d.X, d.cell_types, d.conditions, rows};
  for (const auto& value : d.perturbed)
    saved.responses[value] = model.fit(FitContext{cells, c, d.perturbed, value, seed, device, network});
  saved.training = {
      {"data", apps::absolute_path(c.data)}, {"cells", rows.size()}, {"validation_cells", split.validation.size()}};
  if (network) {
    const TrainHistory& h = net->second.history;
    saved.training["best_epoch"] = h.best_epoch;
    saved.training["epochs_run"] = h.history.size();
    saved.training["best_val_loss"] = h.best_val;
    saved.training["seconds"] = h.seconds;
    if (!net->second.lr_search.is_null()) saved.training["lr_search"] = net->second.lr_search;
    write_history(run.path("history.csv"), run.path("loss_curves.svg"), h, model.name + " (train)");
    omics::DataFrame obs;
    obs.index = d.cell_names;
    obs.set(c.cell_type_key, omics::Column::categorical(d.cell_types));
    obs.set(c.condition_key, omics::Column::categorical(d.conditions));
    // Every cell's pathway activities beside its latent, for a pathway encoder (the same
    // selection train_networks built the encoder from).
    std::optional<PathwayActivities> activities;
    if (network->pathway_front())
      activities = PathwayActivities{pathway_activities(*network, d.X, device), select_pathways(c, d.gene_names)->ids};
    write_latent_h5ad(run.path("latent.h5ad"), perturb_network(model.network).latent(*network, d.X, device), obs,
                      activities ? &*activities : nullptr);
  }
  const std::string model_dir = std::filesystem::path(run.path("model/config.json")).parent_path().string();
  write_model_folder(model_dir, c, saved, network);
  if (saved_copy) {
    write_model_folder(std::filesystem::path(saved_copy->path("config.json")).parent_path().string(), c, saved,
                       network);
    saved_copy->commit();
  }
  write_run_notes(run);
  run.commit();
  if (c.checkpoint_every > 0) std::filesystem::remove_all(apps::checkpoint_folder_of(c.out));  // the run is safe now
  std::fprintf(stderr, "model in %s/model%s%s\n", c.out.c_str(), c.save_model.empty() ? "" : " and ",
               c.save_model.c_str());
  return 0;
}

}  // namespace cg::perturb
