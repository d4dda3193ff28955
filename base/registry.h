#pragma once
// Lookups in the name-keyed registries (models, loss terms, weighting strategies, schedules):
// each registry is a vector of entries with a `name`; an unknown name is one error that lists
// the known ones.
#include <string>
#include <vector>

#include "base/error.h"
#include "base/text.h"

namespace cg {

template <class Entry> std::vector<std::string> names_of(const std::vector<Entry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.name);
  return out;
}

// what: how the message names the kind, e.g. "--models: unknown model".
template <class Entry>
const Entry& find_named(const std::vector<Entry>& entries, const std::string& name, const std::string& what) {
  for (const auto& e : entries)
    if (name == e.name) return e;
  throw Error(what + " '" + name + "' (expected one of: " + join(names_of(entries)) + ")");
}

}  // namespace cg
