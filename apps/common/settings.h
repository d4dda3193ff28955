#pragma once
// An app's settings as JSON, from one X-macro list of its Config members (X(name) each): the
// resolved config.json, --config files and their checks are written once, here. An app's
// config.h says CG_DECLARE_SETTINGS_FUNCTIONS(Config); its config.cpp defines the list and says
// CG_DEFINE_SETTINGS_JSON(Config, LIST), then writes resolved_json and load_config_files (which
// know the app's path settings).
#include <nlohmann/json.hpp>
#include <string>

#define CG_SETTING_TO_JSON(f) j[#f] = c.f;
#define CG_SETTING_FROM_JSON(f) \
  if (j.contains(#f)) {         \
    current = #f;               \
    j.at(#f).get_to(c.f);       \
  }

// Declares, in an app's namespace, the settings functions every app has (defined by
// CG_DEFINE_SETTINGS_JSON plus the app's own resolved_json and load_config_files).
#define CG_DECLARE_SETTINGS_FUNCTIONS(Config)                                                    \
  /* Every stored setting by its name with underscores ("cell_type_key"). */                     \
  nlohmann::json to_json(const Config& c);                                                       \
  /* A run folder's config.json: paths made absolute, so it can be given back with --config. */  \
  nlohmann::json resolved_json(const Config& c);                                                 \
  /* Settings from a JSON object; an unknown key or a wrong type is an error naming `source`. */ \
  void merge_json(Config& c, const nlohmann::json& j, const std::string& source);                \
  /* Every --config FILE in argv, before the flags (flags win); paths relative to the file. */   \
  void load_config_files(int argc, char** argv, Config& c);

// Defines to_json and merge_json from the X-macro list LIST.
#define CG_DEFINE_SETTINGS_JSON(Config, LIST)                                      \
  nlohmann::json to_json(const Config& c) {                                        \
    nlohmann::json j;                                                              \
    LIST(CG_SETTING_TO_JSON)                                                       \
    return j;                                                                      \
  }                                                                                \
  void merge_json(Config& c, const nlohmann::json& j, const std::string& source) { \
    apps::check_settings(j, to_json(c), source);                                   \
    std::string current;                                                           \
    try {                                                                          \
      LIST(CG_SETTING_FROM_JSON)                                                   \
    } catch (const nlohmann::json::exception& e) {                                 \
      apps::wrong_setting_type(source, current, e);                                \
    }                                                                              \
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
