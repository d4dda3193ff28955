#include "apps/predict_perturbation/recipe.h"

#include <cmath>
#include <sstream>

#include "apps/common/settings.h"
#include "autograd/error.h"
#include "base/text.h"

namespace cg::perturb {

// One list keeps the names, to_json and apply_settings from drifting apart.
#define CG_RECIPE_SETTINGS(X)                                                                                        \
  X(hidden) X(latent) X(input_dropout) X(dropout) X(alpha) X(adversarial) X(batch_size) X(lr) X(warmup_steps) X(epochs) \
      X(patience)

std::string recipe_flag(const std::string& name) {
  std::string f = "--" + name;
  for (char& ch : f)
    if (ch == '_') ch = '-';
  return f;
}

const std::vector<std::string>& recipe_setting_names() {
#define CG_RECIPE_NAME(f) #f,
  static const std::vector<std::string> names = {CG_RECIPE_SETTINGS(CG_RECIPE_NAME)};
#undef CG_RECIPE_NAME
  return names;
}

nlohmann::json to_json(const Recipe& r) {
  nlohmann::json j;
#define CG_RECIPE_TO_JSON(f) j[#f] = r.f;
  CG_RECIPE_SETTINGS(CG_RECIPE_TO_JSON)
#undef CG_RECIPE_TO_JSON
  return j;
}

void apply_settings(Recipe& r, const nlohmann::json& j, const std::set<std::string>& takes, const std::string& network,
                    const std::string& where) {
  if (!j.is_object()) throw Error(where + ": expected an object of settings for " + network + ", found " + j.dump());
  for (const auto& [key, value] : j.items()) {
    const auto& names = recipe_setting_names();
    if (std::find(names.begin(), names.end(), key) == names.end())
      throw Error(where + ": '" + key + "' is not a model setting; expected one of " + join(names));
    if (!takes.count(key))
      throw Error(where + ": " + network + " does not take '" + key + "' (" + recipe_flag(key) + "); it takes " +
                  join(std::vector<std::string>(takes.begin(), takes.end())));
  }
  std::string current;
  try {
#define CG_RECIPE_FROM_JSON(f)                       \
  if (j.contains(#f)) {                              \
    current = #f;                                    \
    apps::read_setting(j.at(#f), r.f, where, #f);    \
  }
    CG_RECIPE_SETTINGS(CG_RECIPE_FROM_JSON)
#undef CG_RECIPE_FROM_JSON
  } catch (const nlohmann::json::exception& e) {
    apps::wrong_setting_type(where, current, e);
  }
}

void validate(const Recipe& r, const std::string& where) {
  auto fail = [&](const std::string& setting, const std::string& expected, double found) {
    std::ostringstream os;
    os << where << ": " << recipe_flag(setting) << ": expected " << expected << ", found " << found;
    throw Error(os.str());
  };
  auto rate = [&](const char* name, double v) {
    if (!(v >= 0 && v < 1)) fail(name, "a rate in [0, 1)", v);
  };
  for (int64_t w : r.hidden)
    if (w < 1) fail("hidden", "positive widths", static_cast<double>(w));
  if (r.latent < 1) fail("latent", "at least 1", static_cast<double>(r.latent));
  rate("input_dropout", r.input_dropout);
  rate("dropout", r.dropout);
  if (!(r.alpha >= 0 && std::isfinite(r.alpha))) fail("alpha", "a finite weight >= 0", r.alpha);
  if (!(r.adversarial >= 0 && std::isfinite(r.adversarial))) fail("adversarial", "a finite weight >= 0", r.adversarial);
  if (r.batch_size < 2) fail("batch_size", "at least 2 (batch norm needs two cells)", r.batch_size);
  if (!(r.lr > 0 && std::isfinite(r.lr))) fail("lr", "a positive learning rate", r.lr);
  if (r.warmup_steps < 0) fail("warmup_steps", "0 or more", r.warmup_steps);
  if (r.epochs < 1) fail("epochs", "at least 1", r.epochs);
  if (r.patience < 0) fail("patience", "0 (a fixed budget) or more epochs", r.patience);
}

}  // namespace cg::perturb
