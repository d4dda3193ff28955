#include "apps/train_multitask/control_features.h"

#include <set>

#include "autograd/error.h"
#include "base/text.h"

namespace cg::multitask {

std::map<std::string, std::vector<std::string>> parse_control_features(
    const std::vector<std::string>& entries, const std::map<std::string, std::string>& modalities) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& e : entries) {
    const auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == e.size())
      throw Error("--control-features: expected NAME=FEAT1,FEAT2, found '" + e + "'");
    const std::string name = e.substr(0, eq);
    if (!modalities.count(name))
      throw Error("--control-features: '" + name + "' is not a modality given with --modality");
    std::string rest = e.substr(eq + 1) + ",";
    for (size_t a = 0, b; (b = rest.find(',', a)) != std::string::npos; a = b + 1) {
      const std::string f = rest.substr(a, b - a);
      if (f.empty()) throw Error("--control-features " + name + ": an empty feature name in '" + e + "'");
      out[name].push_back(f);
    }
  }
  return out;
}

std::vector<std::string> resolve_control_features(const std::map<std::string, std::vector<std::string>>& flag,
                                                  const std::string& name, const std::string& file,
                                                  const std::map<std::string, omics::UnsValue>& uns,
                                                  const std::vector<std::string>& features) {
  std::vector<std::string> controls;
  std::string source;
  if (const auto it = flag.find(name); it != flag.end()) {
    controls = it->second;
    source = "--control-features " + name;
  } else if (const auto u = uns.find("control_features"); u != uns.end()) {
    if (u->second.type != omics::UnsValue::Type::String)
      throw Error(file + ": uns['control_features'] of modality '" + name +
                  "' holds numbers; expected a list of feature names");
    controls = u->second.strings;
    source = file + ": uns['control_features']";
  }
  const std::set<std::string> known(features.begin(), features.end());
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (const auto& c : controls) {
    if (!known.count(c))
      throw Error(source + ": '" + c + "' is not a feature of modality '" + name + "' (" + file + ", " +
                  std::to_string(features.size()) + " features)");
    if (seen.insert(c).second) out.push_back(c);
  }
  if (!out.empty() && out.size() == known.size())
    throw Error(source + ": names every feature of modality '" + name + "' as a control; nothing would be scored");
  return out;
}

std::vector<bool> control_mask(const std::vector<std::string>& features, const std::vector<std::string>& controls) {
  const std::set<std::string> c(controls.begin(), controls.end());
  std::vector<bool> m;
  for (const auto& f : features) m.push_back(c.count(f) > 0);
  return m;
}

}  // namespace cg::multitask
