#include "omics/hdf5_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "omics/error.h"

namespace cg::omics::h5 {

namespace {

// A file may legitimately hold data that decompresses far beyond its size (gzip reaches ~1030:1
// on constant data), so the bound is generous; it exists to stop absurd claims (terabytes from
// a few kilobytes), not to second-guess real files.
constexpr uint64_t kMaxCompressionRatio = 4096;
// Slack for datasets whose storage was never written (fill values), and for tiny datasets.
// Small, because h5py/anndata always write their data.
constexpr uint64_t kSlackBytes = 1ull << 20;
// Slack of the whole-file budget.
constexpr uint64_t kBudgetSlackBytes = 64ull << 20;
// Attributes live in object headers; anything this large is corrupt.
constexpr uint64_t kMaxAttrElements = 1ull << 16;
// Chunk cache for reads: big enough that reading scattered rows of a compressed CSR matrix does
// not decompress the same chunk over and over.
constexpr size_t kChunkCacheBytes = 64ull << 20;

std::string file_name_of(hid_t obj) {
  ssize_t n = H5Fget_name(obj, nullptr, 0);
  if (n <= 0) return "<hdf5 file>";
  std::string s(static_cast<size_t>(n) + 1, '\0');
  H5Fget_name(obj, s.data(), s.size());
  s.resize(static_cast<size_t>(n));
  return s;
}

bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_mul_overflow(a, b, out); }

// Reads `n` elements through `reader(mem_type, buffer)`, converting to `mem`. HDF5 converts
// integer and float types itself but not enums (numpy bools), which are read in their base type
// and then converted with H5Tconvert.
template <class Reader>
void read_converted(hid_t ftype, size_t n, hid_t mem, size_t mem_size, void* out, Reader reader,
                    const std::string& file, const std::string& key) {
  H5T_class_t c = H5Tget_class(ftype);
  if (c == H5T_ENUM) {
    Hid native(H5Tget_native_type(ftype, H5T_DIR_ASCEND));
    Hid base(native.valid() ? H5Tget_super(native) : -1);
    if (!base.valid()) fail(file, key, "cannot decode enum type", true);
    size_t bs = H5Tget_size(base);
    if (bs == 0 || bs > 8) fail(file, key, "enum base type has unsupported size " + std::to_string(bs));
    std::vector<unsigned char> buf(n * std::max(bs, mem_size) + 1);
    if (reader(native.get(), buf.data()) < 0) fail(file, key, "read failed", true);
    if (H5Tconvert(base, mem, n, buf.data(), nullptr, H5P_DEFAULT) < 0)
      fail(file, key, "cannot convert enum values", true);
    std::memcpy(out, buf.data(), n * mem_size);
  } else if (c == H5T_INTEGER || c == H5T_FLOAT) {
    if (reader(mem, out) < 0) fail(file, key, "read failed", true);
  } else {
    fail(file, key, std::string("expected numeric data, found ") + class_name(c));
  }
}

// Reads every string of a (dataset or attribute) `ftype` x `space` through `reader`.
template <class Reader>
std::vector<std::string> read_string_elements(hid_t ftype, hid_t space, Reader reader, const std::string& file,
                                              const std::string& key) {
  if (H5Tget_class(ftype) != H5T_STRING)
    fail(file, key, std::string("expected strings, found ") + class_name(H5Tget_class(ftype)));
  hssize_t np = H5Sget_select_npoints(space);
  if (np < 0) fail(file, key, "cannot read dataspace", true);
  size_t n = static_cast<size_t>(np);
  std::vector<std::string> out;
  if (n == 0) return out;
  out.reserve(n);
  htri_t vlen = H5Tis_variable_str(ftype);
  if (vlen < 0) fail(file, key, "cannot read string type", true);
  if (vlen) {
    Hid mt(H5Tcopy(H5T_C_S1));
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(ftype) == H5T_CSET_UTF8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
    std::vector<char*> buf(n, nullptr);
    herr_t st = reader(mt.get(), buf.data());
    std::string err = st < 0 ? last_error() : "";
    if (st >= 0)
      for (char* p : buf) out.emplace_back(p ? p : "");
    // Reclaim even after a failed read: HDF5 may have filled part of the buffer.
    H5Dvlen_reclaim(mt, space, H5P_DEFAULT, buf.data());
    if (st < 0)
      throw DataError(file + ": " + key + ": string read failed" + (err.empty() ? "" : " (HDF5: " + err + ")"));
  } else {
    size_t size = H5Tget_size(ftype);
    if (size == 0) fail(file, key, "fixed-length string type of size 0");
    uint64_t total;
    if (mul_overflows(n, size, &total) || total > (1ull << 32))
      fail(file, key,
           "fixed-length strings too large (" + std::to_string(n) + " x " + std::to_string(size) + " bytes)");
    Hid mt(H5Tcopy(ftype));
    std::vector<char> buf(total + 1, '\0');
    if (reader(mt.get(), buf.data()) < 0) fail(file, key, "string read failed", true);
    bool spacepad = H5Tget_strpad(ftype) == H5T_STR_SPACEPAD;
    for (size_t i = 0; i < n; ++i) {
      const char* p = buf.data() + i * size;
      size_t len = strnlen(p, size);
      if (spacepad)
        while (len > 0 && p[len - 1] == ' ') --len;
      out.emplace_back(p, len);
    }
  }
  return out;
}

Hid vlen_utf8_type() {
  Hid t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

[[noreturn]] void write_fail(hid_t loc, const std::string& name, const std::string& what) {
  // A full disk is the usual cause; say so plainly instead of in HDF5's words.
  const bool no_space = errno == ENOSPC || last_error().find("No space left") != std::string::npos;
  if (no_space) fail(file_name_of(loc), name, "no space left on the device (" + what + ")");
  fail(file_name_of(loc), name, what, true);
}

Hid open_attr(hid_t obj, const std::string& name, const std::string& file, const std::string& key) {
  Hid a(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  if (!a.valid()) fail(file, key, "cannot open attribute '" + name + "'", true);
  return a;
}

// Opens an attribute and checks that its element count is sane.
size_t attr_elements(hid_t attr, hid_t space, const std::string& file, const std::string& key,
                     const std::string& name) {
  hssize_t np = H5Sget_simple_extent_npoints(space);
  if (np < 0) fail(file, key, "attribute '" + name + "' has an unreadable dataspace", true);
  if (static_cast<uint64_t>(np) > kMaxAttrElements)
    fail(file, key, "attribute '" + name + "' claims " + std::to_string(np) + " elements");
  return static_cast<size_t>(np);
}

}  // namespace

void fail(const std::string& file, const std::string& key, const std::string& problem, bool with_hdf5_detail) {
  std::string detail = with_hdf5_detail ? last_error() : "";
  std::string msg = file + ": " + (key.empty() ? "" : key + ": ") + problem;
  if (!detail.empty()) msg += " (HDF5: " + detail + ")";
  throw DataError(msg);
}

Hid open_file_readonly(const std::string& path) {
  silence_errors();
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) fail(path, "", "no such file");
  if (S_ISDIR(st.st_mode)) fail(path, "", "is a directory, expected an HDF5 file");
  htri_t is = H5Fis_hdf5(path.c_str());
  if (is < 0) fail(path, "", "cannot be read", true);
  if (is == 0) fail(path, "", "not an HDF5 file (no HDF5 signature)");
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_cache(fapl, 0, 12421, kChunkCacheBytes, 0.75);
  Hid f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl));
  if (!f.valid()) fail(path, "", "HDF5 cannot open it: truncated or corrupt", true);
  return f;
}

Hid create_file(const std::string& path) {
  silence_errors();
  Hid f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  if (!f.valid()) fail(path, "", "cannot create file", true);
  return f;
}

Kind kind_of(hid_t loc, const std::string& path) {
  if (path.empty()) return Kind::Missing;
  // H5Lexists fails (instead of answering no) when an intermediate component is missing, so
  // each prefix is checked in turn.
  size_t pos = 0;
  while (true) {
    size_t slash = path.find('/', pos);
    std::string prefix = path.substr(0, slash);
    if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return Kind::Missing;
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  Hid obj(H5Oopen(loc, path.c_str(), H5P_DEFAULT));
  if (!obj.valid()) return Kind::Missing;
  switch (H5Iget_type(obj)) {
    case H5I_GROUP: return Kind::Group;
    case H5I_DATASET: return Kind::Dataset;
    default: return Kind::Other;
  }
}

static int read_tracker_fd = -1;

void set_read_tracker(int fd) { read_tracker_fd = fd; }

void note_reading(const std::string& key) {
  if (read_tracker_fd < 0) return;
  const std::string line = key + "\n";
  // A short or failed write only costs the name in a later message; never fail the read for it.
  [[maybe_unused]] const ssize_t n = ::write(read_tracker_fd, line.data(), line.size());
}

Hid open_group(hid_t loc, const std::string& file, const std::string& path, const std::string& key_in) {
  const std::string& key = key_in.empty() ? path : key_in;
  note_reading(key);
  Kind k = kind_of(loc, path);
  if (k == Kind::Missing) fail(file, key, "missing (expected a group)");
  if (k != Kind::Group) fail(file, key, "is not a group");
  Hid g(H5Gopen2(loc, path.c_str(), H5P_DEFAULT));
  if (!g.valid()) fail(file, key, "cannot open group", true);
  return g;
}

Hid open_dataset(hid_t loc, const std::string& file, const std::string& path, const std::string& key_in) {
  const std::string& key = key_in.empty() ? path : key_in;
  note_reading(key);
  Kind k = kind_of(loc, path);
  if (k == Kind::Missing) fail(file, key, "missing (expected a dataset)");
  if (k != Kind::Dataset) fail(file, key, "is not a dataset");
  Hid d(H5Dopen2(loc, path.c_str(), H5P_DEFAULT));
  if (!d.valid()) fail(file, key, "cannot open dataset", true);
  return d;
}

std::vector<std::string> children(hid_t group, const std::string& file, const std::string& key) {
  std::vector<std::string> names;
  herr_t st = H5Literate(
      group, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
        static_cast<std::vector<std::string>*>(data)->emplace_back(name);
        return 0;
      },
      &names);
  if (st < 0) fail(file, key, "cannot list group members", true);
  return names;
}

// ---- attributes -------------------------------------------------------------------------------

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

std::string read_string_attr(hid_t obj, const std::string& name, const std::string& file, const std::string& key) {
  if (!has_attr(obj, name)) return "";
  Hid a = open_attr(obj, name, file, key);
  Hid type(H5Aget_type(a)), space(H5Aget_space(a));
  if (!type.valid() || !space.valid()) fail(file, key, "attribute '" + name + "' unreadable", true);
  size_t n = attr_elements(a, space, file, key, name);
  if (n == 0) return "";
  if (n != 1) fail(file, key, "attribute '" + name + "' holds " + std::to_string(n) + " values, expected one string");
  auto v = read_string_elements(
      type, space, [&](hid_t mt, void* buf) { return H5Aread(a, mt, buf); }, file, key + " (attribute '" + name + "')");
  return v.empty() ? "" : v[0];
}

std::vector<std::string> read_string_array_attr(hid_t obj, const std::string& name, const std::string& file,
                                                const std::string& key) {
  if (!has_attr(obj, name)) return {};
  Hid a = open_attr(obj, name, file, key);
  Hid type(H5Aget_type(a)), space(H5Aget_space(a));
  if (!type.valid() || !space.valid()) fail(file, key, "attribute '" + name + "' unreadable", true);
  size_t n = attr_elements(a, space, file, key, name);
  if (n == 0 || H5Tget_class(type) != H5T_STRING) return {};
  return read_string_elements(
      type, space, [&](hid_t mt, void* buf) { return H5Aread(a, mt, buf); }, file, key + " (attribute '" + name + "')");
}

std::vector<int64_t> read_int_array_attr(hid_t obj, const std::string& name, const std::string& file,
                                         const std::string& key) {
  if (!has_attr(obj, name)) fail(file, key, "missing attribute '" + name + "'");
  Hid a = open_attr(obj, name, file, key);
  Hid type(H5Aget_type(a)), space(H5Aget_space(a));
  if (!type.valid() || !space.valid()) fail(file, key, "attribute '" + name + "' unreadable", true);
  size_t n = attr_elements(a, space, file, key, name);
  std::vector<int64_t> out(n);
  if (n == 0) return out;
  read_converted(
      type, n, H5T_NATIVE_INT64, sizeof(int64_t), out.data(), [&](hid_t mt, void* buf) { return H5Aread(a, mt, buf); },
      file, key + " (attribute '" + name + "')");
  return out;
}

bool read_bool_attr(hid_t obj, const std::string& name, const std::string& file, const std::string& key,
                    bool fallback) {
  if (!has_attr(obj, name)) return fallback;
  auto v = read_int_array_attr(obj, name, file, key);
  if (v.size() != 1) fail(file, key, "attribute '" + name + "' should hold one boolean");
  return v[0] != 0;
}

void write_string_attr(hid_t obj, const std::string& name, const std::string& value) {
  Hid t = vlen_utf8_type();
  Hid s(H5Screate(H5S_SCALAR));
  Hid a(H5Acreate2(obj, name.c_str(), t, s, H5P_DEFAULT, H5P_DEFAULT));
  const char* p = value.c_str();
  if (!a.valid() || H5Awrite(a, t, &p) < 0) write_fail(obj, name, "cannot write attribute");
}

void write_string_array_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values) {
  Hid t = vlen_utf8_type();
  hsize_t n = values.size();
  Hid s(H5Screate_simple(1, &n, nullptr));
  Hid a(H5Acreate2(obj, name.c_str(), t, s, H5P_DEFAULT, H5P_DEFAULT));
  std::vector<const char*> ptrs;
  for (auto& v : values) ptrs.push_back(v.c_str());
  if (!a.valid() || (n > 0 && H5Awrite(a, t, ptrs.data()) < 0)) write_fail(obj, name, "cannot write attribute");
}

void write_empty_float_array_attr(hid_t obj, const std::string& name) {
  hsize_t n = 0;
  Hid s(H5Screate_simple(1, &n, nullptr));
  Hid a(H5Acreate2(obj, name.c_str(), H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid()) write_fail(obj, name, "cannot write attribute");
}

void write_int64_array_attr(hid_t obj, const std::string& name, const std::vector<int64_t>& values) {
  hsize_t n = values.size();
  Hid s(H5Screate_simple(1, &n, nullptr));
  Hid a(H5Acreate2(obj, name.c_str(), H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid() || (n > 0 && H5Awrite(a, H5T_NATIVE_INT64, values.data()) < 0))
    write_fail(obj, name, "cannot write attribute");
}

void write_bool_attr(hid_t obj, const std::string& name, bool value) {
  Hid t = file_type_for(NumType::Bool);
  Hid s(H5Screate(H5S_SCALAR));
  Hid a(H5Acreate2(obj, name.c_str(), t, s, H5P_DEFAULT, H5P_DEFAULT));
  int8_t v = value ? 1 : 0;
  if (!a.valid() || H5Awrite(a, t, &v) < 0) write_fail(obj, name, "cannot write attribute");
}

void write_encoding(hid_t obj, const std::string& type, const std::string& version) {
  write_string_attr(obj, "encoding-type", type);
  write_string_attr(obj, "encoding-version", version);
}

// ---- dataset description ----------------------------------------------------------------------

const char* num_type_name(NumType t) {
  switch (t) {
    case NumType::Float32: return "float32";
    case NumType::Float64: return "float64";
    case NumType::Int8: return "int8";
    case NumType::Int16: return "int16";
    case NumType::Int32: return "int32";
    case NumType::Int64: return "int64";
    case NumType::UInt8: return "uint8";
    case NumType::UInt16: return "uint16";
    case NumType::UInt32: return "uint32";
    case NumType::UInt64: return "uint64";
    case NumType::Bool: return "bool";
  }
  return "?";
}

const char* class_name(H5T_class_t cls) {
  switch (cls) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound (record)";
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "variable-length sequence";
    case H5T_OPAQUE: return "opaque";
    case H5T_REFERENCE: return "reference";
    case H5T_BITFIELD: return "bitfield";
    case H5T_TIME: return "time";
    default: return "unknown type";
  }
}

uint64_t DatasetInfo::n_elements() const {
  uint64_t n = 1;
  for (uint64_t d : dims)
    if (mul_overflows(n, d, &n)) return std::numeric_limits<uint64_t>::max();
  return n;
}

DatasetInfo info(hid_t dset, const std::string& file, const std::string& key) {
  DatasetInfo di;
  Hid type(H5Dget_type(dset)), space(H5Dget_space(dset));
  if (!type.valid() || !space.valid()) fail(file, key, "cannot read dataset type or shape", true);
  di.cls = H5Tget_class(type);
  di.type_size = H5Tget_size(type);
  if (di.cls == H5T_STRING) di.vlen_string = H5Tis_variable_str(type) > 0;
  int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0 || rank > H5S_MAX_RANK) fail(file, key, "unreadable dataspace", true);
  if (H5Sget_simple_extent_type(space) == H5S_NULL) fail(file, key, "dataset has a null dataspace");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space, dims.data(), nullptr) < 0)
    fail(file, key, "unreadable dataspace", true);
  di.dims.assign(dims.begin(), dims.end());
  return di;
}

NumType num_type(hid_t dset, const std::string& file, const std::string& key) {
  Hid type(H5Dget_type(dset));
  if (!type.valid()) fail(file, key, "cannot read dataset type", true);
  H5T_class_t c = H5Tget_class(type);
  size_t size = H5Tget_size(type);
  if (c == H5T_FLOAT) return size <= 4 ? NumType::Float32 : NumType::Float64;
  Hid base;
  hid_t inttype = type;
  if (c == H5T_ENUM) {
    base = Hid(H5Tget_super(type));
    if (!base.valid()) fail(file, key, "cannot decode enum type", true);
    // numpy bools are int8 enums with exactly the members FALSE and TRUE.
    if (H5Tget_nmembers(type) == 2 && H5Tget_size(base) == 1) return NumType::Bool;
    inttype = base;
    size = H5Tget_size(base);
  } else if (c != H5T_INTEGER) {
    fail(file, key, std::string("expected numeric data, found ") + class_name(c));
  }
  bool is_signed = H5Tget_sign(inttype) != H5T_SGN_NONE;
  switch (size) {
    case 1: return is_signed ? NumType::Int8 : NumType::UInt8;
    case 2: return is_signed ? NumType::Int16 : NumType::UInt16;
    case 4: return is_signed ? NumType::Int32 : NumType::UInt32;
    case 8: return is_signed ? NumType::Int64 : NumType::UInt64;
    default: fail(file, key, "integer type of unsupported size " + std::to_string(size));
  }
}

static thread_local ReadBudget* active_budget = nullptr;

ReadBudget::ReadBudget(hid_t file, std::string path) : path_(std::move(path)), outer_(active_budget) {
  hsize_t size = 0;
  H5Fget_filesize(file, &size);
  uint64_t scaled;
  limit_ = mul_overflows(size, kMaxCompressionRatio, &scaled) ? std::numeric_limits<uint64_t>::max()
                                                              : scaled + kBudgetSlackBytes;
  active_budget = this;
}

ReadBudget::~ReadBudget() { active_budget = outer_; }

void ReadBudget::consume(uint64_t bytes, const std::string& key) {
  note_reading(key);
  if (bytes > limit_ - std::min(used_, limit_))
    fail(path_, key,
         "declares " + std::to_string(bytes) + " bytes, which would take the data read from this file past " +
             std::to_string(limit_) + " bytes, more than it could hold even compressed: truncated or corrupt");
  used_ += bytes;
}

uint64_t object_address(hid_t obj) {
  H5O_info_t info;
  if (H5Oget_info2(obj, &info, H5O_INFO_BASIC) < 0) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(info.addr);
}

void check_plausible_size(hid_t dset, const std::string& file, const std::string& key, uint64_t n_elements,
                          size_t file_elem_size) {
  uint64_t need;
  if (mul_overflows(n_elements, std::max<uint64_t>(file_elem_size, 1), &need))
    fail(file, key, "declares " + std::to_string(n_elements) + " elements: impossibly large");
  if (active_budget) active_budget->consume(need, key);
  if (need <= kSlackBytes) return;
  uint64_t storage = H5Dget_storage_size(dset);
  hsize_t file_size = 0;
  Hid fid(H5Iget_file_id(dset));
  if (fid.valid() && H5Fget_filesize(fid, &file_size) >= 0) storage = std::min<uint64_t>(storage, file_size);
  Hid dcpl(H5Dget_create_plist(dset));
  bool filtered = dcpl.valid() && H5Pget_nfilters(dcpl) > 0;
  uint64_t allowed = storage * (filtered ? kMaxCompressionRatio : 1) + kSlackBytes;
  if (need > allowed)
    fail(file, key,
         "declares " + std::to_string(n_elements) + " elements (" + std::to_string(need) +
             " bytes) but the file stores only " + std::to_string(storage) + " bytes for it: truncated or corrupt");
}

// ---- numeric reads ------------------------------------------------------------------------------

template <> hid_t native_type<float>() { return H5T_NATIVE_FLOAT; }
template <> hid_t native_type<double>() { return H5T_NATIVE_DOUBLE; }
template <> hid_t native_type<int8_t>() { return H5T_NATIVE_INT8; }
template <> hid_t native_type<uint8_t>() { return H5T_NATIVE_UINT8; }
template <> hid_t native_type<int16_t>() { return H5T_NATIVE_INT16; }
template <> hid_t native_type<int32_t>() { return H5T_NATIVE_INT32; }
template <> hid_t native_type<int64_t>() { return H5T_NATIVE_INT64; }

template <class T>
void read_block(hid_t dset, const std::string& file, const std::string& key, const std::vector<uint64_t>& start,
                const std::vector<uint64_t>& count, T* out) {
  Hid ftype(H5Dget_type(dset)), fspace(H5Dget_space(dset));
  if (!ftype.valid() || !fspace.valid()) fail(file, key, "cannot read dataset type or shape", true);
  int rank = H5Sget_simple_extent_ndims(fspace);
  if (rank < 0 || static_cast<size_t>(rank) != start.size() || start.size() != count.size())
    fail(file, key, "has rank " + std::to_string(rank) + ", expected " + std::to_string(start.size()));
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0) H5Sget_simple_extent_dims(fspace, dims.data(), nullptr);
  uint64_t n = 1;
  for (int i = 0; i < rank; ++i) {
    if (start[i] > dims[i] || count[i] > dims[i] - start[i])
      fail(file, key,
           "read of [" + std::to_string(start[i]) + ", +" + std::to_string(count[i]) + ") exceeds extent " +
               std::to_string(dims[i]) + " of dimension " + std::to_string(i));
    n *= count[i];
  }
  if (n == 0) return;
  Hid mspace;
  if (rank == 0) {
    mspace = Hid(H5Screate(H5S_SCALAR));
  } else {
    std::vector<hsize_t> st(start.begin(), start.end()), ct(count.begin(), count.end());
    if (H5Sselect_hyperslab(fspace, H5S_SELECT_SET, st.data(), nullptr, ct.data(), nullptr) < 0)
      fail(file, key, "cannot select hyperslab", true);
    mspace = Hid(H5Screate_simple(rank, ct.data(), nullptr));
  }
  read_converted(
      ftype, n, native_type<T>(), sizeof(T), out,
      [&](hid_t mt, void* buf) { return H5Dread(dset, mt, mspace, fspace, H5P_DEFAULT, buf); }, file, key);
}

template <class T> std::vector<T> read_all(hid_t dset, const std::string& file, const std::string& key) {
  DatasetInfo di = info(dset, file, key);
  if (!di.is_numeric()) fail(file, key, std::string("expected numeric data, found ") + class_name(di.cls));
  uint64_t n = di.n_elements();
  check_plausible_size(dset, file, key, n, di.type_size);
  std::vector<T> out(n);
  read_block<T>(dset, file, key, std::vector<uint64_t>(di.dims.size(), 0), di.dims, out.data());
  return out;
}

template <class T>
std::vector<T> read_all(hid_t loc, const std::string& file, const std::string& path,
                        const std::string& key_for_errors) {
  Hid d = open_dataset(loc, file, path);
  return read_all<T>(d.get(), file, key_for_errors);
}

#define CG_INSTANTIATE(T)                                                                                  \
  template void read_block<T>(hid_t, const std::string&, const std::string&, const std::vector<uint64_t>&, \
                              const std::vector<uint64_t>&, T*);                                           \
  template std::vector<T> read_all<T>(hid_t, const std::string&, const std::string&);                      \
  template std::vector<T> read_all<T>(hid_t, const std::string&, const std::string&, const std::string&);
CG_INSTANTIATE(float)
CG_INSTANTIATE(double)
CG_INSTANTIATE(int8_t)
CG_INSTANTIATE(uint8_t)
CG_INSTANTIATE(int16_t)
CG_INSTANTIATE(int32_t)
CG_INSTANTIATE(int64_t)
#undef CG_INSTANTIATE

size_t first_invalid_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 either.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return i;
    i += len;
  }
  return std::string::npos;
}

std::vector<std::string> read_strings(hid_t dset, const std::string& file, const std::string& key) {
  Hid type(H5Dget_type(dset)), space(H5Dget_space(dset));
  if (!type.valid() || !space.valid()) fail(file, key, "cannot read dataset type or shape", true);
  if (H5Tget_class(type) != H5T_STRING)
    fail(file, key, std::string("expected strings, found ") + class_name(H5Tget_class(type)));
  if (H5Sget_simple_extent_type(space) == H5S_NULL) return {};
  hssize_t np = H5Sget_simple_extent_npoints(space);
  if (np < 0) fail(file, key, "unreadable dataspace", true);
  check_plausible_size(dset, file, key, static_cast<uint64_t>(np), H5Tget_size(type));
  if (H5Tis_variable_str(type) > 0 && np > 1 && H5Sget_simple_extent_type(space) == H5S_SIMPLE) {
    // Variable-length strings live in the file's global heap, and many elements may point at
    // one big heap object: ask HDF5 for the total first, and count it against the budget.
    // (Not for scalars: H5Dvlen_get_buf_size crashes on scalar dataspaces in HDF5 1.10, and one
    // element is bounded by the file size anyway.)
    Hid mt(H5Tcopy(H5T_C_S1));
    H5Tset_size(mt, H5T_VARIABLE);
    hsize_t bytes = 0;
    if (H5Dvlen_get_buf_size(dset, mt, space, &bytes) < 0) fail(file, key, "cannot size its strings", true);
    if (active_budget) active_budget->consume(bytes, key);
    else if (bytes > (1ull << 32))
      fail(file, key, "strings would take " + std::to_string(bytes) + " bytes: corrupt file");
  }
  std::vector<std::string> values = read_string_elements(
      type, space, [&](hid_t mt, void* buf) { return H5Dread(dset, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); }, file,
      key);
  // Names that are not valid UTF-8 would be copied into every .h5ad we write, which anndata then
  // cannot read: refuse them here, where the file and the entry can be named.
  for (size_t i = 0; i < values.size(); ++i) {
    const size_t bad = first_invalid_utf8(values[i]);
    if (bad == std::string::npos) continue;
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(values[i][bad]));
    fail(file, key,
         "entry " + std::to_string(i) + " is not valid UTF-8 (byte " + byte + " at position " + std::to_string(bad) +
             "); expected UTF-8 text, as anndata writes");
  }
  return values;
}

// ---- writes -------------------------------------------------------------------------------------

Hid file_type_for(NumType t) {
  switch (t) {
    case NumType::Float32: return Hid(H5Tcopy(H5T_IEEE_F32LE));
    case NumType::Float64: return Hid(H5Tcopy(H5T_IEEE_F64LE));
    case NumType::Int8: return Hid(H5Tcopy(H5T_STD_I8LE));
    case NumType::Int16: return Hid(H5Tcopy(H5T_STD_I16LE));
    case NumType::Int32: return Hid(H5Tcopy(H5T_STD_I32LE));
    case NumType::Int64: return Hid(H5Tcopy(H5T_STD_I64LE));
    case NumType::UInt8: return Hid(H5Tcopy(H5T_STD_U8LE));
    case NumType::UInt16: return Hid(H5Tcopy(H5T_STD_U16LE));
    case NumType::UInt32: return Hid(H5Tcopy(H5T_STD_U32LE));
    case NumType::UInt64: return Hid(H5Tcopy(H5T_STD_U64LE));
    case NumType::Bool: {
      // What h5py writes for numpy bool: an int8 enum {FALSE = 0, TRUE = 1}.
      Hid e(H5Tenum_create(H5T_NATIVE_INT8));
      int8_t f = 0, tr = 1;
      H5Tenum_insert(e, "FALSE", &f);
      H5Tenum_insert(e, "TRUE", &tr);
      return e;
    }
  }
  return Hid();
}

void write_numeric(hid_t loc, const std::string& name, hid_t mem_type, hid_t file_type,
                   const std::vector<uint64_t>& dims, const void* data, int gzip_level) {
  std::vector<hsize_t> d(dims.begin(), dims.end());
  Hid space(d.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(d.size()), d.data(), nullptr));
  uint64_t n = 1;
  for (auto x : dims) n *= x;
  Hid dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (gzip_level > 0 && n > 0 && !d.empty()) {
    // About 64k elements per chunk, whole rows for matrices, so row reads touch few chunks.
    std::vector<hsize_t> chunk(d);
    uint64_t inner = 1;
    for (size_t i = 1; i < d.size(); ++i) inner *= d[i];
    chunk[0] = std::max<uint64_t>(1, std::min<uint64_t>(d[0], (1u << 16) / std::max<uint64_t>(1, inner)));
    H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
    H5Pset_deflate(dcpl, static_cast<unsigned>(std::min(gzip_level, 9)));
  }
  Hid ds(H5Dcreate2(loc, name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
  if (!ds.valid()) write_fail(loc, name, "cannot create dataset");
  if (n > 0 && H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    write_fail(loc, name, "cannot write dataset");
}

void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values, bool scalar,
                   int gzip_level) {
  Hid t = vlen_utf8_type();
  hsize_t n = values.size();
  if (scalar && n != 1) write_fail(loc, name, "scalar string needs exactly one value");
  Hid space(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr));
  Hid dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (gzip_level > 0 && !scalar && n > 0) {
    hsize_t chunk = std::min<hsize_t>(n, 1u << 14);
    H5Pset_chunk(dcpl, 1, &chunk);
    H5Pset_deflate(dcpl, static_cast<unsigned>(std::min(gzip_level, 9)));
  }
  Hid ds(H5Dcreate2(loc, name.c_str(), t, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
  if (!ds.valid()) write_fail(loc, name, "cannot create dataset");
  std::vector<const char*> ptrs;
  ptrs.reserve(values.size());
  for (auto& v : values) ptrs.push_back(v.c_str());
  if (n > 0 && H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
    write_fail(loc, name, "cannot write dataset");
}

Hid create_group(hid_t loc, const std::string& name) {
  Hid g(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!g.valid()) write_fail(loc, name, "cannot create group");
  return g;
}

}  // namespace cg::omics::h5
