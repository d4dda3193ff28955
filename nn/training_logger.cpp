// MetricsLogger: CSV and JSON-lines rows with a fixed column set.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "base/text.h"
#include "nn/training.h"

namespace cg::nn {

namespace {
std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string csv_cell(const MetricsLogger::Value& v) {
  if (auto d = std::get_if<double>(&v)) return format_number(*d);
  if (auto i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return csv_field(std::get<std::string>(v));
}

// Splits one CSV line (quoted fields allowed, as csv_field writes them).
std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}
}  // namespace

MetricsLogger::Row& MetricsLogger::Row::put(const std::string& key, Value v) {
  CG_CHECK(!key.empty(), "metrics row: empty key");
  for (auto& [k, old] : entries_)
    if (k == key) {
      old = std::move(v);  // setting a key twice keeps its first position and the last value
      return *this;
    }
  entries_.emplace_back(key, std::move(v));
  return *this;
}

MetricsLogger::Row& MetricsLogger::Row::set_all(const std::string& prefix,
                                                const std::map<std::string, double>& values) {
  for (const auto& [k, v] : values) put(prefix + k, v);
  return *this;
}

MetricsLogger::MetricsLogger(const std::string& csv_path, const std::string& jsonl_path, bool append)
    : csv_path_(csv_path), jsonl_path_(jsonl_path) {
  CG_CHECK(!csv_path.empty() || !jsonl_path.empty(), "metrics logger: neither a CSV nor a JSON-lines path given");
  const auto mode = append ? std::ios::app : std::ios::trunc;
  if (!csv_path.empty()) {
    if (append) {
      std::ifstream existing(csv_path);
      std::string header;
      if (existing && std::getline(existing, header) && !header.empty()) columns_ = split_csv_line(header);
    }
    csv_.open(csv_path, std::ios::out | mode);
    CG_CHECK(csv_.good(), "metrics logger: cannot open '" << csv_path << "' for writing");
  }
  if (!jsonl_path.empty()) {
    jsonl_.open(jsonl_path, std::ios::out | mode);
    CG_CHECK(jsonl_.good(), "metrics logger: cannot open '" << jsonl_path << "' for writing");
  }
}

void MetricsLogger::log(const Row& row) {
  CG_CHECK(!row.entries().empty(), "metrics logger: empty row");
  const bool first = columns_.empty();
  if (first) {
    for (const auto& [k, v] : row.entries()) columns_.push_back(k);
  } else {
    const std::set<std::string> known(columns_.begin(), columns_.end());
    std::string added;
    for (const auto& [k, v] : row.entries())
      if (!known.count(k)) added += (added.empty() ? "'" : ", '") + k + "'";
    CG_CHECK(added.empty(), "metrics logger ('"
                                << (csv_path_.empty() ? jsonl_path_ : csv_path_) << "'): new column(s) " << added
                                << " after the header was fixed by the first row; log rows with different "
                                   "columns to a separate logger");
  }
  if (csv_.is_open()) {
    if (first) {
      for (size_t c = 0; c < columns_.size(); ++c) csv_ << (c ? "," : "") << csv_field(columns_[c]);
      csv_ << '\n';
    }
    for (size_t c = 0; c < columns_.size(); ++c) {
      if (c) csv_ << ',';
      for (const auto& [k, v] : row.entries())
        if (k == columns_[c]) csv_ << csv_cell(v);
    }
    csv_ << '\n';
    csv_.flush();
    CG_CHECK(csv_.good(), "metrics logger: writing '" << csv_path_ << "' failed");
  }
  if (jsonl_.is_open()) {
    // nlohmann::ordered_json keeps the row's key order in the line.
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (const auto& [k, v] : row.entries()) {
      if (auto d = std::get_if<double>(&v)) j[k] = std::isfinite(*d) ? nlohmann::ordered_json(*d) : nullptr;
      else if (auto i = std::get_if<int64_t>(&v)) j[k] = *i;
      else j[k] = std::get<std::string>(v);
    }
    jsonl_ << j.dump() << '\n';
    jsonl_.flush();
    CG_CHECK(jsonl_.good(), "metrics logger: writing '" << jsonl_path_ << "' failed");
  }
}

}  // namespace cg::nn
