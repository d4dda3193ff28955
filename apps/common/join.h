#pragma once
// Joins names for error messages ("types present: A, B, C").
#include <string>

namespace cg::apps {

template <class Range> std::string join(const Range& items, const std::string& separator = ", ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

}  // namespace cg::apps
