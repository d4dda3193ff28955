#include "omics/h5ad_frame_io.h"

#include <algorithm>
#include <limits>
#include <set>

#include "omics/error.h"
#include "omics/hdf5_util.h"

namespace cg::omics::detail {

using h5::fail;
using h5::Hid;

namespace {

bool is_integer_type(h5::NumType t) { return t != h5::NumType::Float32 && t != h5::NumType::Float64; }

// A 1-D dataset as a column: strings, or numbers with their storage dtype.
// `name` is relative to `loc`; `path` is the full key, for messages.
Column read_column_dataset(hid_t loc, const std::string& file, const std::string& name, const std::string& path) {
  Hid d = h5::open_dataset(loc, file, name, path);
  auto di = h5::info(d, file, path);
  if (di.dims.size() != 1) fail(file, path, "expected a 1-D column, found rank " + std::to_string(di.dims.size()));
  if (di.cls == H5T_STRING) return Column::text(h5::read_strings(d, file, path));
  if (!di.is_numeric()) fail(file, path, std::string("unsupported column type ") + h5::class_name(di.cls));
  h5::NumType t = h5::num_type(d, file, path);
  return Column::numeric(h5::read_all<double>(d.get(), file, path), t);
}

Column read_categorical(hid_t g, const std::string& file, const std::string& path) {
  Column c;
  c.type = Column::Type::Categorical;
  // Numeric categories (pandas allows them) become their text form.
  c.categories = read_column_dataset(g, file, "categories", path + "/categories").labels();
  Hid codes = h5::open_dataset(g, file, "codes", path + "/codes");
  auto ci = h5::info(codes, file, path + "/codes");
  if (ci.dims.size() != 1 || (ci.cls != H5T_INTEGER && ci.cls != H5T_ENUM))
    fail(file, path + "/codes", std::string("expected 1-D integer codes, found ") + h5::class_name(ci.cls));
  auto raw = h5::read_all<int64_t>(codes.get(), file, path + "/codes");
  const auto ncat = static_cast<int64_t>(c.categories.size());
  c.codes.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] < -1 || raw[i] >= ncat)
      fail(file, path + "/codes",
           "code " + std::to_string(raw[i]) + " at row " + std::to_string(i) + " is outside [-1, " +
               std::to_string(ncat) + ")");
    c.codes.push_back(static_cast<int32_t>(raw[i]));
  }
  c.ordered = h5::read_bool_attr(g, "ordered", file, path, false);
  return c;
}

void write_column(hid_t g, const std::string& name, const Column& c, int gzip) {
  switch (c.type) {
    case Column::Type::String: {
      h5::write_strings(g, name, c.strings, false, gzip);
      Hid d(H5Dopen2(g, name.c_str(), H5P_DEFAULT));
      h5::write_encoding(d, "string-array", "0.2.0");
      return;
    }
    case Column::Type::Numeric: {
      Hid ft = h5::file_type_for(c.num_type);
      const uint64_t n = c.numbers.size();
      if (c.num_type == h5::NumType::Bool) {
        std::vector<int8_t> b(c.numbers.size());
        for (size_t i = 0; i < b.size(); ++i) b[i] = c.numbers[i] != 0.0 ? 1 : 0;
        h5::write_numeric(g, name, ft, ft, {n}, b.data(), gzip);
      } else {
        h5::write_numeric(g, name, H5T_NATIVE_DOUBLE, ft, {n}, c.numbers.data(), gzip);
      }
      Hid d(H5Dopen2(g, name.c_str(), H5P_DEFAULT));
      h5::write_encoding(d, "array", "0.2.0");
      return;
    }
    case Column::Type::Categorical: {
      Hid cg = h5::create_group(g, name);
      h5::write_encoding(cg, "categorical", "0.2.0");
      h5::write_bool_attr(cg, "ordered", c.ordered);
      h5::write_strings(cg, "categories", c.categories, false, gzip);
      {
        Hid d(H5Dopen2(cg, "categories", H5P_DEFAULT));
        h5::write_encoding(d, "string-array", "0.2.0");
      }
      // The smallest signed type that holds every code, as pandas chooses.
      const size_t n = c.categories.size();
      h5::NumType ct = n < 128 ? h5::NumType::Int8 : n < 32768 ? h5::NumType::Int16 : h5::NumType::Int32;
      Hid ft = h5::file_type_for(ct);
      for (int32_t code : c.codes)
        if (code < -1 || code >= static_cast<int64_t>(n))
          throw DataError(name + ": categorical code " + std::to_string(code) + " outside [-1, " + std::to_string(n) +
                          ")");
      h5::write_numeric(cg, "codes", H5T_NATIVE_INT32, ft, {c.codes.size()}, c.codes.data(), gzip);
      Hid d(H5Dopen2(cg, "codes", H5P_DEFAULT));
      h5::write_encoding(d, "array", "0.2.0");
      return;
    }
  }
}

}  // namespace

DataFrame read_dataframe(hid_t loc, const std::string& file, const std::string& key, const std::vector<int64_t>* rows,
                         std::vector<std::string>* skipped) {
  h5::Kind kind = h5::kind_of(loc, key);
  if (kind == h5::Kind::Missing) fail(file, key, "missing (expected a dataframe group)");
  if (kind == h5::Kind::Dataset)
    fail(file, key,
         "is a dataset (the anndata < 0.7 record layout), which is not supported; "
         "re-save the file with anndata >= 0.8");
  Hid g = h5::open_group(loc, file, key);
  std::string enc = h5::read_string_attr(g, "encoding-type", file, key);
  if (!enc.empty() && enc != "dataframe") fail(file, key, "has encoding-type '" + enc + "', expected dataframe");

  DataFrame df;
  df.source_file = file;
  df.key = key;
  std::string idx = h5::read_string_attr(g, "_index", file, key);
  df.index_name = idx.empty() ? "_index" : idx;
  if (h5::kind_of(g, df.index_name) != h5::Kind::Dataset)
    fail(file, key + "/" + df.index_name, "index dataset missing (named by the '_index' attribute)");
  df.index = read_column_dataset(g, file, df.index_name, key + "/" + df.index_name).labels();

  std::vector<std::string> names;
  if (h5::has_attr(g, "column-order")) {
    names = h5::read_string_array_attr(g, "column-order", file, key);
  } else {
    for (auto& n : h5::children(g, file, key))
      if (n != df.index_name && n != "__categories") names.push_back(n);
  }
  std::set<std::string> seen;
  for (const auto& name : names) {
    const std::string path = key + "/" + name;
    if (!seen.insert(name).second) fail(file, key, "column '" + name + "' listed twice in column-order");
    if (name == df.index_name) continue;
    h5::Kind k = h5::kind_of(g, name);
    Column col;
    if (k == h5::Kind::Missing) {
      fail(file, path, "listed in column-order but missing");
    } else if (k == h5::Kind::Dataset) {
      Hid d = h5::open_dataset(g, file, name, path);
      auto di = h5::info(d, file, path);
      if (h5::has_attr(d, "categories") || (di.cls != H5T_STRING && !di.is_numeric()) || di.dims.size() != 1) {
        // anndata 0.7 categoricals (codes + object reference), records, matrices.
        if (skipped) skipped->push_back(path);
        continue;
      }
      col = read_column_dataset(g, file, name, path);
    } else if (k == h5::Kind::Group) {
      Hid cg = h5::open_group(g, file, name, path);
      std::string cenc = h5::read_string_attr(cg, "encoding-type", file, path);
      if (cenc != "categorical") {
        if (skipped) skipped->push_back(path + " (encoding '" + cenc + "')");
        continue;
      }
      col = read_categorical(cg, file, path);
    } else {
      fail(file, path, "is neither a dataset nor a group");
    }
    if (col.size() != df.rows())
      fail(file, path,
           "has " + std::to_string(col.size()) + " values, expected " + std::to_string(df.rows()) + " (the length of " +
               key + "/" + df.index_name + ")");
    df.column_order.push_back(name);
    df.columns[name] = std::move(col);
  }
  if (rows) {
    for (int64_t r : *rows)
      if (r < 0 || static_cast<size_t>(r) >= df.rows())
        fail(file, key, "requested row " + std::to_string(r) + " is outside [0, " + std::to_string(df.rows()) + ")");
    return df.take(*rows);
  }
  return df;
}

void write_dataframe(hid_t loc, const std::string& name, const DataFrame& df, int gzip) {
  std::vector<std::string> names;
  std::set<std::string> listed;
  for (auto& n : df.column_order)
    if (listed.insert(n).second) names.push_back(n);
  for (auto& [n, c] : df.columns)
    if (!listed.count(n)) names.push_back(n);
  const std::string index_name = df.index_name.empty() ? "_index" : df.index_name;
  for (auto& n : names) {
    if (!df.columns.count(n)) throw DataError(name + ": column-order names '" + n + "' but there is no such column");
    if (n.empty() || n.find('/') != std::string::npos || n == index_name)
      throw DataError(name + ": column name '" + n +
                      "' cannot be stored (empty, contains '/', or equals the index name)");
    if (df.columns.at(n).size() != df.rows())
      throw DataError(name + "/" + n + ": column has " + std::to_string(df.columns.at(n).size()) +
                      " values, expected " + std::to_string(df.rows()));
  }
  Hid g = h5::create_group(loc, name);
  h5::write_encoding(g, "dataframe", "0.2.0");
  h5::write_string_attr(g, "_index", index_name);
  if (names.empty()) h5::write_empty_float_array_attr(g, "column-order");
  else h5::write_string_array_attr(g, "column-order", names);
  h5::write_strings(g, index_name, df.index, false, gzip);
  {
    Hid d(H5Dopen2(g, index_name.c_str(), H5P_DEFAULT));
    h5::write_encoding(d, "string-array", "0.2.0");
  }
  for (auto& n : names) write_column(g, n, df.columns.at(n), gzip);
}

// ---- uns ------------------------------------------------------------------------------------------

namespace {

// Hard links can make a group its own descendant, so groups already visited are skipped, and
// the walk is bounded in depth and in entries.
constexpr int kMaxUnsDepth = 32;
constexpr size_t kMaxUnsEntries = 1 << 16;

void read_uns_group(hid_t g, const std::string& file, const std::string& key, const std::string& prefix,
                    std::map<std::string, UnsValue>& out, std::vector<std::string>* skipped, int depth,
                    std::set<uint64_t>& visited, size_t& entries) {
  if (depth > kMaxUnsDepth) fail(file, key, "uns nesting deeper than " + std::to_string(kMaxUnsDepth) + " levels");
  if (!visited.insert(h5::object_address(g)).second) {
    if (skipped) skipped->push_back(key + " (hard link to a group already read)");
    return;
  }
  for (const auto& name : h5::children(g, file, key)) {
    if (++entries > kMaxUnsEntries) fail(file, "uns", "more than " + std::to_string(kMaxUnsEntries) + " entries");
    const std::string path = key + "/" + name;
    const std::string flat = prefix.empty() ? name : prefix + "/" + name;
    h5::Kind k = h5::kind_of(g, name);
    if (k == h5::Kind::Group) {
      Hid sub = h5::open_group(g, file, name, path);
      std::string enc = h5::read_string_attr(sub, "encoding-type", file, path);
      if (enc.empty() || enc == "dict")
        read_uns_group(sub, file, path, flat, out, skipped, depth + 1, visited, entries);
      else if (skipped) skipped->push_back(path + " (encoding '" + enc + "')");
      continue;
    }
    if (k != h5::Kind::Dataset) {
      if (skipped) skipped->push_back(path);
      continue;
    }
    Hid d = h5::open_dataset(g, file, name, path);
    auto di = h5::info(d, file, path);
    if (di.dims.size() > 1 || (di.cls != H5T_STRING && !di.is_numeric())) {
      if (skipped) skipped->push_back(path);
      continue;
    }
    UnsValue v;
    v.scalar = di.dims.empty();
    if (di.cls == H5T_STRING) {
      v.type = UnsValue::Type::String;
      v.strings = h5::read_strings(d, file, path);
    } else {
      v.type = UnsValue::Type::Number;
      v.integer = is_integer_type(h5::num_type(d, file, path));
      v.numbers = h5::read_all<double>(d.get(), file, path);
    }
    out[flat] = std::move(v);
  }
}

}  // namespace

std::map<std::string, UnsValue> read_uns(hid_t loc, const std::string& file, std::vector<std::string>* skipped) {
  std::map<std::string, UnsValue> out;
  h5::Kind k = h5::kind_of(loc, "uns");
  if (k == h5::Kind::Missing) return out;
  Hid g = h5::open_group(loc, file, "uns");
  std::set<uint64_t> visited;
  size_t entries = 0;
  read_uns_group(g, file, "uns", "", out, skipped, 0, visited, entries);
  return out;
}

void write_uns(hid_t loc, const std::map<std::string, UnsValue>& uns) {
  Hid root = h5::create_group(loc, "uns");
  h5::write_encoding(root, "dict", "0.1.0");
  for (const auto& [key, v] : uns) {
    if (key.empty() || key.front() == '/' || key.back() == '/' || key.find("//") != std::string::npos)
      throw DataError("uns: key '" + key + "' cannot be stored");
    // Create the dict groups of a nested key ("a/b/c" -> uns/a, uns/a/b).
    std::string path;
    size_t pos = 0, slash;
    while ((slash = key.find('/', pos)) != std::string::npos) {
      path = key.substr(0, slash);
      if (h5::kind_of(root, path) == h5::Kind::Missing) {
        Hid g = h5::create_group(root, path);
        h5::write_encoding(g, "dict", "0.1.0");
      }
      pos = slash + 1;
    }
    const size_t n = v.type == UnsValue::Type::String ? v.strings.size() : v.numbers.size();
    if (v.scalar && n != 1)
      throw DataError("uns/" + key + ": a scalar needs exactly one value, has " + std::to_string(n));
    std::vector<uint64_t> dims;
    if (!v.scalar) dims.push_back(n);
    if (v.type == UnsValue::Type::String) {
      h5::write_strings(root, key, v.strings, v.scalar, 0);
    } else if (v.integer) {
      std::vector<int64_t> iv(v.numbers.begin(), v.numbers.end());
      h5::write_numeric(root, key, H5T_NATIVE_INT64, H5T_STD_I64LE, dims, iv.data(), 0);
    } else {
      h5::write_numeric(root, key, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, dims, v.numbers.data(), 0);
    }
    Hid d(H5Dopen2(root, key.c_str(), H5P_DEFAULT));
    const bool str = v.type == UnsValue::Type::String;
    h5::write_encoding(d, v.scalar ? (str ? "string" : "numeric-scalar") : (str ? "string-array" : "array"), "0.2.0");
  }
}

}  // namespace cg::omics::detail
