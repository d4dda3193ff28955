#pragma once
// The obs / var tables of an AnnData: a string index plus named columns that are numeric,
// string, or categorical (categories + integer codes, -1 meaning missing), as pandas has them.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "omics/hdf5_util.h"

namespace cg::omics {

struct Column {
  enum class Type { Numeric, String, Categorical };
  Type type = Type::Numeric;

  // Numeric: values as double (exact for every integer up to 2^53), plus the dtype stored in the
  // file so that writing it back keeps int64 as int64, bool as bool, and so on.
  std::vector<double> numbers;
  h5::NumType num_type = h5::NumType::Float64;

  // String
  std::vector<std::string> strings;

  // Categorical
  std::vector<std::string> categories;
  std::vector<int32_t> codes;  // -1: missing (NaN in pandas)
  bool ordered = false;

  size_t size() const;
  // Every value as text: categories[code] ("" for a missing code), the string, or the number
  // formatted shortest-round-trip ("3" for integers).
  std::vector<std::string> labels() const;
  // Keeps only rows[i] (any order, repeats allowed), in that order.
  Column take(const std::vector<int64_t>& rows) const;

  static Column numeric(std::vector<double> v, h5::NumType t = h5::NumType::Float64);
  static Column text(std::vector<std::string> v);
  // Categories sorted as pandas.Categorical sorts them, unless given explicitly (then every
  // label must be one of them, or "" for missing).
  static Column categorical(const std::vector<std::string>& labels, std::vector<std::string> categories = {});
};

struct DataFrame {
  std::vector<std::string> index;
  // Name of the HDF5 dataset holding the index; anndata uses "_index" unless the pandas index
  // had a name (scGen's files use "index"). Kept so that a round trip preserves it.
  std::string index_name = "_index";
  std::vector<std::string> column_order;  // the column names, in table order
  std::map<std::string, Column> columns;

  // Where the table came from, for error messages ("<file>: obs: ...").
  std::string source_file;
  std::string key;

  size_t rows() const { return index.size(); }
  bool has(const std::string& name) const { return columns.count(name) > 0; }
  // DataError naming the file, the table, the missing column and the columns that exist.
  const Column& column(const std::string& name) const;
  std::vector<std::string> labels(const std::string& name) const { return column(name).labels(); }
  // Adds or replaces a column, appending it to column_order if new; DataError on a length mismatch.
  void set(const std::string& name, Column c);
  DataFrame take(const std::vector<int64_t>& rows) const;
};

}  // namespace cg::omics
