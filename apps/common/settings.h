#pragma once
// An app's settings as JSON, from one X-macro list of its Config members (X(name) each): the
// resolved config.json, --config files and their checks are written once, here.
//
//   nlohmann::json to_json(const Config& c) { nlohmann::json j; MY_SETTINGS(CG_SETTING_TO_JSON) return j; }
//   void merge_json(Config& c, const nlohmann::json& j, const std::string& source) {
//     apps::check_settings(j, to_json(c), source);
//     std::string current;
//     try { MY_SETTINGS(CG_SETTING_FROM_JSON) } catch (const nlohmann::json::exception& e) {
//     apps::wrong_setting_type(source, current, e); }
//   }
#include <nlohmann/json.hpp>
#include <string>

#define CG_SETTING_TO_JSON(f) j[#f] = c.f;
#define CG_SETTING_FROM_JSON(f) \
  if (j.contains(#f)) {         \
    current = #f;               \
    j.at(#f).get_to(c.f);       \
  }

namespace cg::apps {

// `j` must be an object whose keys are all settings (the keys of `defaults`); errors name `source`.
void check_settings(const nlohmann::json& j, const nlohmann::json& defaults, const std::string& source);
[[noreturn]] void wrong_setting_type(const std::string& source, const std::string& setting, const std::exception& e);

// `path` as seen from `folder` (unchanged when absolute or when folder is empty).
std::string path_under(const std::string& folder, const std::string& path);
// The absolute form of a path the user gave (for the resolved config.json).
std::string absolute_path(const std::string& path);

}  // namespace cg::apps
