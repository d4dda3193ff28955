#include "apps/predict_perturbation/training_split.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <sstream>

#include "apps/common/checkpoint_folder.h"
#include "apps/common/run_notes.h"
#include "apps/predict_perturbation/gene_sets.h"
#include "omics/splits.h"

namespace cg::perturb {
namespace {

std::string format_number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace

TrainingSplit split_training_cells(const PerturbData& d, const std::vector<int64_t>& rows, double validation_fraction,
                                   uint64_t seed) {
  std::vector<std::string> types, conds;
  for (int64_t i : rows) {
    types.push_back(d.cell_types[i]);
    conds.push_back(d.conditions[i]);
  }
  const omics::TrainValSplit split = omics::stratified_train_val(types, conds, validation_fraction, seed);
  for (const auto& group : split.whole_in_train)
    apps::note(group + ": too few to split at --validation-fraction " + format_number(validation_fraction) +
               "; all of them are training cells");
  TrainingSplit out;
  for (int64_t i : split.train) out.train.push_back(rows[i]);
  for (int64_t i : split.validation) out.validation.push_back(rows[i]);
  return out;
}

std::map<std::string, TrainedNetwork> train_networks(const Config& c, const PerturbData& d,
                                                     const omics::DenseMatrix& conditions, Device device,
                                                     const std::string& label, uint64_t seed,
                                                     const TrainingSplit& split, const std::string& progress_prefix) {
  std::map<std::string, TrainedNetwork> out;
  // Pathway encoders: the sets are read and the encoder (soft-mask candidates included) built once,
  // shared by every network trained here.
  std::optional<GeneEncoderSpec> gene_encoder;
  for (const NetworkEntry& net : perturb_networks()) {
    const bool needed = std::any_of(c.models.begin(), c.models.end(),
                                    [&](const std::string& m) { return perturb_model(m).network == net.name; });
    if (!needed) continue;
    TrainedNetwork t;
    const Recipe recipe = recipe_for(c, net.name);
    if (!gene_encoder) {
      const std::optional<PathwaySets> sets =
          c.encoder == "mlp" ? std::nullopt : select_pathways(c, d.gene_names);
      gene_encoder = gene_encoder_for(c, sets ? &*sets : nullptr, d.X, split.train);
    }
    t.gene_encoder = *gene_encoder;
    t.model = net.make(d.X.cols(), conditions.cols(), recipe, t.gene_encoder, seed);
    TrainSettings ts;
    ts.epochs = recipe.epochs;
    ts.patience = recipe.patience;
    ts.batch_size = recipe.batch_size;
    ts.lr = recipe.lr;
    ts.warmup_steps = recipe.warmup_steps;
    ts.seed = seed;
    ts.profile = c.profile;
    ts.device = device;
    ts.label = net.name + " " + label;
    ts.progress_prefix = progress_prefix;
    if (c.checkpoint_every > 0) {  // train only (benchmark refuses it): one folder per network
      ts.checkpoint_folder = apps::checkpoint_folder_of(c.out) + "/" + net.name;
      std::filesystem::create_directories(ts.checkpoint_folder);
      ts.checkpoint_every = c.checkpoint_every;
      ts.resume = !c.resume.empty();
    }
    t.history = train_model(*t.model, d.X, conditions, split.train, split.validation, ts);
    out.emplace(net.name, std::move(t));
  }
  return out;
}

}  // namespace cg::perturb
