#pragma once
// An app's settings as JSON, from one X-macro list of its Config members (X(name) each): the
// resolved config.json, --config files and their checks are written once, here. An app's
// config.h says CG_DECLARE_SETTINGS_FUNCTIONS(Config); its config.cpp defines the list and says
// CG_DEFINE_SETTINGS_JSON(Config, LIST), then writes resolved_json and load_config_files (which
// know the app's path settings).
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#define CG_SETTING_TO_JSON(f) j[#f] = c.f;
#define CG_SETTING_FROM_JSON(f)                    \
  if (j.contains(#f)) {                            \
    current = #f;                                  \
    apps::read_setting(j.at(#f), c.f, source, #f); \
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

// An optional setting is null in JSON while unset (a flag not given: the default applies).
namespace nlohmann {
template <class T> struct adl_serializer<std::optional<T>> {
  static void to_json(json& j, const std::optional<T>& v) {
    if (v) j = *v;
    else j = nullptr;
  }
  static void from_json(const json& j, std::optional<T>& v) {
    if (j.is_null()) v.reset();
    else v = j.get<T>();
  }
};
}  // namespace nlohmann

namespace cg::apps {

[[noreturn]] void setting_out_of_range(const std::string& source, const std::string& setting, const std::string& found,
                                       const std::string& expected);

template <class T> struct is_vector : std::false_type {};
template <class T> struct is_vector<std::vector<T>> : std::true_type {};
template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};

// One setting from JSON. An integer setting takes only a whole number within its type's range
// (1e30 or 2.5 for "epochs" is an error naming the value, not a wrapped-around number); other
// types as nlohmann reads them (a wrong type throws nlohmann's exception, reported by the caller).
template <class T>
void read_setting(const nlohmann::json& v, T& out, const std::string& source, const std::string& setting) {
  if constexpr (is_optional<T>::value) {
    if (v.is_null()) {
      out.reset();
    } else {
      typename T::value_type x{};
      read_setting(v, x, source, setting);
      out = x;
    }
    return;
  } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (v.is_number()) {
      const double d = v.get<double>();
      const double lo = static_cast<double>(std::numeric_limits<T>::min());
      const double hi = static_cast<double>(std::numeric_limits<T>::max());
      const bool whole = v.is_number_integer() || d == std::floor(d);
      const bool in_range = v.is_number_unsigned()  ? v.get<uint64_t>() <= std::numeric_limits<T>::max()
                            : v.is_number_integer() ? (std::is_signed_v<T> || v.get<int64_t>() >= 0) &&
                                                          static_cast<double>(v.get<int64_t>()) <= hi &&
                                                          static_cast<double>(v.get<int64_t>()) >= lo
                                                    : d >= lo && d <= hi;
      if (!whole || !in_range)
        setting_out_of_range(source, setting, v.dump(),
                             "a whole number from " + std::to_string(std::numeric_limits<T>::min()) + " to " +
                                 std::to_string(std::numeric_limits<T>::max()));
      out = v.is_number_float() ? static_cast<T>(d) : v.get<T>();
      return;
    }
  } else if constexpr (is_vector<T>::value) {
    if (v.is_array()) {
      T values;
      for (size_t i = 0; i < v.size(); ++i) {
        typename T::value_type x{};
        read_setting(v[i], x, source, setting + "[" + std::to_string(i) + "]");
        values.push_back(x);
      }
      out = std::move(values);
      return;
    }
  }
  v.get_to(out);
}

// `j` must be an object whose keys are all settings (the keys of `defaults`); errors name `source`.
void check_settings(const nlohmann::json& j, const nlohmann::json& defaults, const std::string& source);
[[noreturn]] void wrong_setting_type(const std::string& source, const std::string& setting, const std::exception& e);

// `path` as seen from `folder` (unchanged when absolute or when folder is empty).
std::string path_under(const std::string& folder, const std::string& path);
// The absolute form of a path the user gave (for the resolved config.json).
std::string absolute_path(const std::string& path);

}  // namespace cg::apps
