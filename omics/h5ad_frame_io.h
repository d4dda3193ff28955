#pragma once
// obs / var dataframes and uns entries in the anndata >= 0.8 HDF5 encoding.
#include <hdf5.h>

#include <map>
#include <string>
#include <vector>

#include "omics/anndata.h"

namespace cg::omics::detail {

// Reads the dataframe group `key` (e.g. "obs"); `rows` (may be null) keeps only those rows.
// Columns of encodings we do not model are named in `skipped`.
DataFrame read_dataframe(hid_t loc, const std::string& file, const std::string& key, const std::vector<int64_t>* rows,
                         std::vector<std::string>* skipped);
void write_dataframe(hid_t loc, const std::string& name, const DataFrame& df, int gzip_level);

// uns scalars and 1-D arrays, nested dicts flattened to "a/b" keys; other entries go to `skipped`.
std::map<std::string, UnsValue> read_uns(hid_t loc, const std::string& file, std::vector<std::string>* skipped);
void write_uns(hid_t loc, const std::map<std::string, UnsValue>& uns);

}  // namespace cg::omics::detail
