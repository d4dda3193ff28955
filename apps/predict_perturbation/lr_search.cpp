#include "apps/predict_perturbation/lr_search.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "apps/common/run_notes.h"
#include "autograd/error.h"
#include "base/text.h"
#include "nn/training.h"

namespace cg::perturb {
void check_lr_search_settings(const Config& c) {
  if (!c.search_lr) return;
  if (c.lr) throw Error("--search-lr and --lr both choose the learning rate; give one of them");
  for (const auto& name : networks_of(c.models))
    if (c.model_settings.contains(name) && c.model_settings.at(name).contains("lr"))
      throw Error("--search-lr and model_settings." + name + ".lr both choose " + name +
                  "'s learning rate; give one of them");
  // One checkpoint folder per network holds one training; a search runs several.
  if (c.checkpoint_every > 0) throw Error("--search-lr and --checkpoint-every cannot be combined; give one of them");
  if (networks_of(c.models).empty()) apps::note("--search-lr: no chosen model trains a network; nothing to search");
}

TrainedNetwork train_with_lr_search(const NetworkEntry& net, const Recipe& recipe,
                                    const std::function<TrainedNetwork(const Recipe&)>& train_one) {
  std::vector<double> grid = net.lr_grid;
  if (grid.empty()) throw Error("--search-lr: " + net.name + " declares no learning rates to search");
  std::sort(grid.begin(), grid.end());  // ascending, so a tie keeps the smaller rate
  nlohmann::json candidates = nlohmann::json::array();
  TrainedNetwork best;
  double best_loss = 0, best_lr = 0, seconds = 0;
  bool found = false;
  std::string last_error;
  for (double lr : grid) {
    Recipe r = recipe;
    r.lr = lr;
    nlohmann::json row = {{"lr", lr}};
    try {
      TrainedNetwork t = train_one(r);
      const TrainHistory& h = t.history;
      seconds += h.seconds;
      row["best_val_loss"] = h.best_val;
      row["best_epoch"] = h.best_epoch;
      row["epochs_run"] = h.history.size();
      row["seconds"] = h.seconds;
      if (std::isfinite(h.best_val) && (!found || h.best_val < best_loss)) {
        best = std::move(t);
        best_loss = h.best_val;
        best_lr = lr;
        found = true;
      }
    } catch (const nn::NonFiniteLoss& e) {
      // A rate too high for this network diverges: a result of the search, not a failed run.
      last_error = e.what();
      row["best_val_loss"] = nullptr;
      row["error"] = last_error;
      apps::note("--search-lr: " + net.name + " at lr " + format_number(lr) + " diverged; not a candidate (" + last_error + ")");
    }
    candidates.push_back(row);
  }
  if (!found) throw Error("--search-lr: every learning rate of " + net.name + " diverged; the last: " + last_error);
  best.lr_search = {{"grid", grid}, {"candidates", candidates}, {"chosen_lr", best_lr}};
  best.lr_search["seconds"] = seconds;
  return best;
}

std::string lr_search_summary(const std::vector<ResultRow>& rows) {
  // Per model, in the order the rows first name it: the grid and the rate each (type, seed) chose.
  std::vector<std::string> order;
  std::map<std::string, nlohmann::json> grid;
  std::map<std::string, std::map<std::string, double>> chosen;  // model -> "type/seed" -> lr
  for (const auto& row : rows) {
    if (!row.metrics.contains("lr_search")) continue;
    const nlohmann::json& s = row.metrics.at("lr_search");
    if (!grid.count(row.model)) order.push_back(row.model);
    grid[row.model] = s.at("grid");
    chosen[row.model][row.cell_type + "/" + std::to_string(row.seed)] = s.at("chosen_lr").get<double>();
  }
  if (order.empty()) return "";
  std::string out = "Learning rates searched (--search-lr; each chosen by the lowest validation loss on the training "
                    "types' validation cells, per type and seed in metrics.json):";
  for (const auto& model : order) {
    std::vector<std::string> searched;
    for (const auto& lr : grid[model]) searched.push_back(format_number(lr.get<double>()));
    std::map<double, int> counts;
    for (const auto& [where, lr] : chosen[model]) ++counts[lr];
    std::vector<std::string> picks;
    for (const auto& [lr, n] : counts)
      picks.push_back(format_number(lr) + (chosen[model].size() > 1 ? " (" + std::to_string(n) + " of " +
                                                                 std::to_string(chosen[model].size()) + ")"
                                                           : ""));
    out += " " + model + ": " + join(searched) + "; chose " + join(picks) + ".";
  }
  return out + "\n";
}

}  // namespace cg::perturb
