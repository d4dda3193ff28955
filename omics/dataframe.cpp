#include "omics/dataframe.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include "omics/error.h"

namespace cg::omics {

namespace {

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char b[32];
    std::snprintf(b, sizeof b, "%.0f", v);
    return b;
  }
  // Shortest form that reads back to the same double.
  char b[40];
  for (int prec = 6; prec <= 17; ++prec) {
    std::snprintf(b, sizeof b, "%.*g", prec, v);
    if (std::strtod(b, nullptr) == v) break;
  }
  return b;
}

template <class T> std::vector<T> take_vec(const std::vector<T>& v, const std::vector<int64_t>& rows) {
  std::vector<T> out;
  out.reserve(rows.size());
  for (int64_t r : rows) out.push_back(v[static_cast<size_t>(r)]);
  return out;
}

}  // namespace

size_t Column::size() const {
  switch (type) {
    case Type::Numeric: return numbers.size();
    case Type::String: return strings.size();
    case Type::Categorical: return codes.size();
  }
  return 0;
}

std::vector<std::string> Column::labels() const {
  switch (type) {
    case Type::String: return strings;
    case Type::Numeric: {
      std::vector<std::string> out;
      out.reserve(numbers.size());
      for (double v : numbers) out.push_back(format_number(v));
      return out;
    }
    case Type::Categorical: {
      std::vector<std::string> out;
      out.reserve(codes.size());
      for (int32_t c : codes)
        out.push_back(c >= 0 && static_cast<size_t>(c) < categories.size() ? categories[c] : std::string());
      return out;
    }
  }
  return {};
}

Column Column::take(const std::vector<int64_t>& rows) const {
  Column c = *this;
  const size_t n = size();
  for (int64_t r : rows)
    if (r < 0 || static_cast<size_t>(r) >= n)
      throw DataError("column take: row " + std::to_string(r) + " out of range [0, " + std::to_string(n) + ")");
  switch (type) {
    case Type::Numeric: c.numbers = take_vec(numbers, rows); break;
    case Type::String: c.strings = take_vec(strings, rows); break;
    case Type::Categorical: c.codes = take_vec(codes, rows); break;
  }
  return c;
}

Column Column::numeric(std::vector<double> v, h5::NumType t) {
  Column c;
  c.type = Type::Numeric;
  c.numbers = std::move(v);
  c.num_type = t;
  return c;
}

Column Column::text(std::vector<std::string> v) {
  Column c;
  c.type = Type::String;
  c.strings = std::move(v);
  return c;
}

Column Column::categorical(const std::vector<std::string>& labels, std::vector<std::string> categories) {
  Column c;
  c.type = Type::Categorical;
  if (categories.empty()) {
    for (auto& l : labels)
      if (!l.empty()) categories.push_back(l);
    std::sort(categories.begin(), categories.end());
    categories.erase(std::unique(categories.begin(), categories.end()), categories.end());
  }
  std::unordered_map<std::string, int32_t> code_of;
  for (size_t i = 0; i < categories.size(); ++i)
    if (!code_of.emplace(categories[i], static_cast<int32_t>(i)).second)
      throw DataError("categorical: duplicate category '" + categories[i] + "'");
  c.codes.reserve(labels.size());
  for (auto& l : labels) {
    if (l.empty()) {
      c.codes.push_back(-1);
      continue;
    }
    auto it = code_of.find(l);
    if (it == code_of.end()) throw DataError("categorical: label '" + l + "' is not among the categories");
    c.codes.push_back(it->second);
  }
  c.categories = std::move(categories);
  return c;
}

const Column& DataFrame::column(const std::string& name) const {
  auto it = columns.find(name);
  if (it != columns.end()) return it->second;
  std::string have;
  for (auto& n : column_order) have += (have.empty() ? "" : ", ") + n;
  throw DataError((source_file.empty() ? std::string("<memory>") : source_file) + ": " +
                  (key.empty() ? std::string("dataframe") : key) + ": no column '" + name +
                  "'; columns are: " + (have.empty() ? "(none)" : have));
}

void DataFrame::set(const std::string& name, Column c) {
  if (c.size() != rows())
    throw DataError((source_file.empty() ? std::string("<memory>") : source_file) + ": " + key + "/" + name +
                    ": column has " + std::to_string(c.size()) + " values, expected " + std::to_string(rows()) +
                    " (the index length)");
  if (!has(name)) column_order.push_back(name);
  columns[name] = std::move(c);
}

DataFrame DataFrame::take(const std::vector<int64_t>& rows) const {
  DataFrame out;
  out.index_name = index_name;
  out.column_order = column_order;
  out.source_file = source_file;
  out.key = key;
  for (int64_t r : rows)
    if (r < 0 || static_cast<size_t>(r) >= index.size())
      throw DataError(source_file + ": " + key + ": row " + std::to_string(r) + " out of range [0, " +
                      std::to_string(index.size()) + ")");
  out.index = take_vec(index, rows);
  for (auto& [name, col] : columns) out.columns[name] = col.take(rows);
  return out;
}

}  // namespace cg::omics
