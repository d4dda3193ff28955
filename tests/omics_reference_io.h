#pragma once
// Readers for the small reference tables that scripts/reference_omics.py writes under
// tests/reference/, and the tolerance used to compare against them.
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace cg::test {

inline std::ifstream open_reference(const std::string& name) {
  std::ifstream f("tests/reference/" + name);
  if (!f)
    throw std::runtime_error("missing reference table tests/reference/" + name +
                             " (run /usr/bin/python3 scripts/reference_omics.py)");
  return f;
}

// key<TAB>value lines after a header.
inline std::map<std::string, double> read_scalars(const std::string& name) {
  auto f = open_reference(name);
  std::map<std::string, double> m;
  std::string line;
  std::getline(f, line);
  while (std::getline(f, line)) {
    const auto tab = line.find('\t');
    m[line.substr(0, tab)] = std::stod(line.substr(tab + 1));
  }
  return m;
}

// Whitespace-separated integers; one vector per line.
inline std::vector<std::vector<int64_t>> read_int_lines(const std::string& name) {
  auto f = open_reference(name);
  std::vector<std::vector<int64_t>> out;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream is(line);
    std::vector<int64_t> v;
    int64_t x;
    while (is >> x) v.push_back(x);
    out.push_back(v);
  }
  return out;
}
inline std::vector<int64_t> read_ints(const std::string& name) { return read_int_lines(name).at(0); }

// A numeric TSV with a header; "nan" parses as NaN.
inline std::vector<std::vector<double>> read_table(const std::string& name) {
  auto f = open_reference(name);
  std::vector<std::vector<double>> rows;
  std::string line, cell;
  std::getline(f, line);
  while (std::getline(f, line)) {
    std::istringstream is(line);
    std::vector<double> r;
    while (std::getline(is, cell, '\t')) r.push_back(std::stod(cell));
    rows.push_back(r);
  }
  return rows;
}

// Relative tolerance with an absolute floor for values that should be ~0; NaN matches NaN.
inline bool close(double a, double b, double rel = 1e-5, double abs_floor = 1e-10) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::abs(a - b) <= std::max(rel * std::abs(b), abs_floor);
}

}  // namespace cg::test
