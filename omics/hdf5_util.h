#pragma once
// Thin, exception-safe layer over the HDF5 C library for the data readers and writers.
// Every failure becomes a DataError that names the file, the dataset key and the problem, and
// HDF5's own error-stack printing is switched off (its innermost message is appended instead).
// Reads are guarded against files that declare far more data than they could store, so a
// corrupt or malicious file cannot make us allocate gigabytes.
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/hdf5_handle.h"

namespace cg::omics::h5 {

// The RAII handle (Hid), silence_errors() and last_error() are the ones nn's checkpoint files use
// too: see base/hdf5_handle.h.
using ::cg::h5::Hid;
using ::cg::h5::last_error;
using ::cg::h5::silence_errors;

// Throws DataError("<file>: <key>: <problem>[ (HDF5: <last error>)]").
[[noreturn]] void fail(const std::string& file, const std::string& key, const std::string& problem,
                       bool with_hdf5_detail = false);

// Opens an existing file read-only; DataError for a missing file, a non-HDF5 file, or one HDF5
// cannot open (truncated, corrupt).
Hid open_file_readonly(const std::string& path);
// Creates (truncates) a file for writing.
Hid create_file(const std::string& path);

enum class Kind { Missing, Group, Dataset, Other };
// What `path` (relative to loc, may contain '/') names; Missing when any component is absent.
Kind kind_of(hid_t loc, const std::string& path);
// `key` names the object in messages (its full path in the file); defaults to `path`.
Hid open_group(hid_t loc, const std::string& file, const std::string& path, const std::string& key = "");
Hid open_dataset(hid_t loc, const std::string& file, const std::string& path, const std::string& key = "");
// Names of the direct children of a group, in name order.
std::vector<std::string> children(hid_t group, const std::string& file, const std::string& key);

// ---- attributes -----------------------------------------------------------------------------
bool has_attr(hid_t obj, const std::string& name);
// A scalar or one-element string attribute; "" when absent.
std::string read_string_attr(hid_t obj, const std::string& name, const std::string& file, const std::string& key);
// A string-array attribute; empty when absent or when it is not of string type (anndata writes
// an empty float64 array for an empty `column-order`).
std::vector<std::string> read_string_array_attr(hid_t obj, const std::string& name, const std::string& file,
                                                const std::string& key);
std::vector<int64_t> read_int_array_attr(hid_t obj, const std::string& name, const std::string& file,
                                         const std::string& key);
// A numpy bool attribute (HDF5 enum FALSE/TRUE) or any integer; `fallback` when absent.
bool read_bool_attr(hid_t obj, const std::string& name, const std::string& file, const std::string& key, bool fallback);

void write_string_attr(hid_t obj, const std::string& name, const std::string& value);
void write_string_array_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values);
// anndata writes an empty `column-order` as a zero-length float64 array.
void write_empty_float_array_attr(hid_t obj, const std::string& name);
void write_int64_array_attr(hid_t obj, const std::string& name, const std::vector<int64_t>& values);
void write_bool_attr(hid_t obj, const std::string& name, bool value);
// Sets encoding-type / encoding-version, the pair every anndata >= 0.8 element carries.
void write_encoding(hid_t obj, const std::string& type, const std::string& version);

// ---- dataset description ----------------------------------------------------------------------
// Storage dtype of numeric data, kept so that a round trip writes back the dtype it read.
enum class NumType { Float32, Float64, Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Bool };
const char* num_type_name(NumType t);

struct DatasetInfo {
  H5T_class_t cls = H5T_NO_CLASS;
  size_t type_size = 0;
  bool vlen_string = false;
  std::vector<uint64_t> dims;  // empty for a scalar dataset
  uint64_t n_elements() const;
  bool is_numeric() const { return cls == H5T_INTEGER || cls == H5T_FLOAT || cls == H5T_ENUM; }
};
DatasetInfo info(hid_t dset, const std::string& file, const std::string& key);
// The numeric storage type of a dataset; DataError when it is not numeric.
NumType num_type(hid_t dset, const std::string& file, const std::string& key);
const char* class_name(H5T_class_t cls);

// Refuses to go on when a dataset declares more bytes (n_elements x its stored element size)
// than its on-disk storage could decompress to; see the .cpp for the bound. Inside a ReadBudget
// scope the bytes also count against the budget of the whole file.
void check_plausible_size(hid_t dset, const std::string& file, const std::string& key, uint64_t n_elements,
                          size_t file_elem_size);

// The object a read is at, for omics/h5_read_guard: when a child process checks a file, each
// group or dataset it opens and each read it starts writes "key\n" to this descriptor, so the
// parent can name the object where libhdf5 crashed or hung. -1 (the default): nothing written.
void set_read_tracker(int fd);
void note_reading(const std::string& key);

// Bounds the total bytes one reader call may pull out of a file (file size x the maximal
// compression ratio): without it, many links to one dataset (HDF5 allows hard links anywhere)
// could make a small file expand without limit. Scopes nest; one per thread is active.
class ReadBudget {
 public:
  ReadBudget(hid_t file, std::string path);
  ~ReadBudget();
  ReadBudget(const ReadBudget&) = delete;
  ReadBudget& operator=(const ReadBudget&) = delete;
  void consume(uint64_t bytes, const std::string& key);

 private:
  std::string path_;
  uint64_t used_ = 0, limit_ = 0;
  ReadBudget* outer_ = nullptr;
};

// The object's address in its file (identifies hard-linked aliases); UINT64_MAX on failure.
uint64_t object_address(hid_t obj);

// ---- numeric reads (HDF5 converts from the stored type; enums/bools are converted too) ------------
template <class T> hid_t native_type();  // specialised for float, double, int8..int64, uint8

// Reads a hyperslab [start, start+count) of a dataset of any rank into `out` (row-major), after
// checking that it is numeric and fits its extent.
template <class T>
void read_block(hid_t dset, const std::string& file, const std::string& key, const std::vector<uint64_t>& start,
                const std::vector<uint64_t>& count, T* out);
// The whole dataset, flattened row-major, after the size guard.
template <class T> std::vector<T> read_all(hid_t dset, const std::string& file, const std::string& key);
// Convenience: open `path` under loc and read it all.
template <class T>
std::vector<T> read_all(hid_t loc, const std::string& file, const std::string& path, const std::string& key_for_errors);

// Strings of a string dataset (variable or fixed length, ASCII or UTF-8), flattened.
// Strings of a dataset; an entry that is not valid UTF-8 is a DataError naming it.
std::vector<std::string> read_strings(hid_t dset, const std::string& file, const std::string& key);
// Byte position of the first invalid UTF-8 sequence in `s` (overlong forms and surrogates
// included), or std::string::npos.
size_t first_invalid_utf8(const std::string& s);

// ---- writes -------------------------------------------------------------------------------------
// Creates a dataset of the given dims holding `data` (row-major), stored as `file_type`, chunked and
// deflated when gzip_level > 0 and it is non-empty.
void write_numeric(hid_t loc, const std::string& name, hid_t mem_type, hid_t file_type,
                   const std::vector<uint64_t>& dims, const void* data, int gzip_level);
void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values, bool scalar,
                   int gzip_level);
// The file type numpy/h5py use for a NumType (bool is the FALSE/TRUE int8 enum).
Hid file_type_for(NumType t);
Hid create_group(hid_t loc, const std::string& name);

}  // namespace cg::omics::h5
