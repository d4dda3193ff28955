#pragma once
// Joins names for messages ("types present: A, B, C"). Here, below every layer that writes
// error messages, so that nn/, omics/ and apps/ share one.
#include <sstream>
#include <string>

namespace cg {

// A number as a user wrote it in messages: 0.0003 as "0.0003", 1e-05 as "1e-05" (ostream's
// shortest default form, not to_string's six fixed decimals).
inline std::string format_number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

template <class Range> std::string join(const Range& items, const std::string& separator = ", ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// 'a', 'b', 'c': names quoted, for lists of user-given names.
template <class Range> std::string join_quoted(const Range& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "'" : ", '") + std::string(item) + "'";
  return out;
}

// One CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma, a quote or a
// line break; as it is otherwise.
inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

}  // namespace cg
