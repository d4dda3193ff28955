#pragma once
// Where tests find the shared real data: ../shared/data relative to the repository root (the
// directory `make test` runs from), or $CELLGRAD_DATA when set.
#include <cstdlib>
#include <string>

namespace cg::test {
inline std::string data_path(const std::string& rel) {
  const char* env = std::getenv("CELLGRAD_DATA");
  return std::string(env ? env : "../shared/data") + "/" + rel;
}
}  // namespace cg::test
