#include "apps/common/settings.h"

#include <filesystem>

#include "base/error.h"

namespace cg::apps {

void check_settings(const nlohmann::json& j, const nlohmann::json& defaults, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object of settings");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!defaults.contains(it.key())) throw Error(source + ": unknown setting '" + it.key() + "'");
}

void setting_out_of_range(const std::string& source, const std::string& setting, const std::string& found,
                          const std::string& expected) {
  throw Error(source + ": setting '" + setting + "' expects " + expected + ", found " + found);
}

void wrong_setting_type(const std::string& source, const std::string& setting, const std::exception& e) {
  throw Error(source + ": setting '" + setting + "' has the wrong type (" + e.what() + ")");
}

std::string path_under(const std::string& folder, const std::string& path) {
  if (folder.empty() || path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(folder) / path).lexically_normal().string();
}

std::string absolute_path(const std::string& path) {
  if (path.empty()) return path;
  return std::filesystem::absolute(path).lexically_normal().string();
}

}  // namespace cg::apps
