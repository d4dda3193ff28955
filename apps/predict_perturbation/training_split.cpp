#include "apps/predict_perturbation/training_split.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>

#include "apps/common/checkpoint_folder.h"
#include "apps/common/run_notes.h"
#include "apps/predict_perturbation/gene_sets.h"
#include "apps/predict_perturbation/lr_search.h"
#include "base/text.h"
#include "omics/splits.h"

namespace cg::perturb {
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

void drop_validation_of_type(TrainingSplit& split, const PerturbData& d, const std::string& type) {
  split.validation.erase(std::remove_if(split.validation.begin(), split.validation.end(),
                                        [&](int64_t i) { return d.cell_types[i] == type; }),
                         split.validation.end());
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
    const Recipe recipe = recipe_for(c, net.name);
    if (!gene_encoder) {
      const std::optional<PathwaySets> sets =
          c.encoder == "mlp" ? std::nullopt : select_pathways(c, d.gene_names);
      gene_encoder = gene_encoder_for(c, sets ? &*sets : nullptr, d.X, split.train);
    }
    // One training of this network with `recipe` (the whole of it with --search-lr, the lr too).
    const auto train_one = [&](const Recipe& candidate) {
      TrainedNetwork t;
      t.gene_encoder = *gene_encoder;
      t.model = net.make(d.X.cols(), conditions.cols(), candidate, t.gene_encoder, seed);
      TrainSettings ts;
      ts.epochs = candidate.epochs;
      ts.patience = candidate.patience;
      ts.batch_size = candidate.batch_size;
      ts.lr = candidate.lr;
      ts.warmup_steps = candidate.warmup_steps;
      ts.seed = seed;
      ts.profile = c.profile;
      ts.mmd_weight = c.mmd_weight;
      ts.device = device;
      ts.label = net.name + (c.search_lr ? " lr " + format_number(candidate.lr) : "") + " " + label;
      ts.progress_prefix = progress_prefix;
      if (c.checkpoint_every > 0) {  // train only (benchmark refuses it): one folder per network
        ts.checkpoint_folder = apps::checkpoint_folder_of(c.out) + "/" + net.name;
        std::filesystem::create_directories(ts.checkpoint_folder);
        ts.checkpoint_every = c.checkpoint_every;
        ts.resume = !c.resume.empty();
      }
      t.history = train_model(*t.model, d.X, conditions, split.train, split.validation, ts);
      return t;
    };
    if (!c.search_lr) {
      out.emplace(net.name, train_one(recipe));
      continue;
    }
    TrainedNetwork t = train_with_lr_search(net, recipe, train_one);
    // What the choice was made on, so a reader can check the held-out type was not among them.
    std::set<std::string> types;
    for (int64_t i : split.validation) types.insert(d.cell_types[i]);
    t.lr_search["validation_cells"] = split.validation.size();
    t.lr_search["validation_types"] = std::vector<std::string>(types.begin(), types.end());
    std::vector<std::string> grid;
    for (const auto& lr : t.lr_search["grid"]) grid.push_back(format_number(lr.get<double>()));
    std::fprintf(stderr, "%s %s: --search-lr chose lr %s of %s (lowest validation loss)\n", net.name.c_str(),
                 label.c_str(), format_number(t.lr_search["chosen_lr"].get<double>()).c_str(), join(grid).c_str());
    out.emplace(net.name, std::move(t));
  }
  return out;
}

}  // namespace cg::perturb
