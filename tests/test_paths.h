#pragma once
// Where tests find the shared real data: ../shared/data relative to the repository root (the
// directory `make test` runs from), or $CELLGRAD_DATA when set.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace cg::test {
inline std::string data_path(const std::string& rel) {
  const char* env = std::getenv("CELLGRAD_DATA");
  return std::string(env ? env : "../shared/data") + "/" + rel;
}

// Whether the shared data files `rels` (relative to the data folder) are all there; a test that
// needs them starts with `if (!have_data({...})) return;`. Absent data is a failure naming the
// missing files (a test that could not look at its data has not passed), or with
// CELLGRAD_ALLOW_MISSING_DATA=1 a visible skip with the same reason.
inline bool have_data(const std::vector<std::string>& rels) {
  std::string missing;
  for (const std::string& rel : rels)
    if (!std::filesystem::exists(data_path(rel))) missing += (missing.empty() ? "" : ", ") + data_path(rel);
  if (missing.empty()) return true;
  const char* allow = std::getenv("CELLGRAD_ALLOW_MISSING_DATA");
  if (allow && std::string(allow) == "1") {
    MESSAGE("skipped: shared data not found: " << missing << " (CELLGRAD_ALLOW_MISSING_DATA=1)");
  } else {
    FAIL_CHECK(
        "shared data not found: " << missing
                                  << " (set CELLGRAD_DATA to its folder, or CELLGRAD_ALLOW_MISSING_DATA=1 to skip)");
  }
  return false;
}
}  // namespace cg::test
