#include "nn/hdf5_tensor_io.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "autograd/error.h"

namespace cg::nn::h5 {

namespace {
// Creation properties without HDF5's per-object modification times (on by default), so the same
// state written twice gives the same bytes: checkpoints and model folders are reproducible files.
hid_t untimed(hid_t cls) {
  static const Hid dataset = [] {
    Hid p(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_obj_track_times(p.get(), 0);
    return p;
  }();
  static const Hid group = [] {
    Hid p(H5Pcreate(H5P_GROUP_CREATE));
    H5Pset_obj_track_times(p.get(), 0);
    return p;
  }();
  static const Hid file = [] {  // the root group's
    Hid p(H5Pcreate(H5P_FILE_CREATE));
    H5Pset_obj_track_times(p.get(), 0);
    return p;
  }();
  return cls == H5P_GROUP_CREATE ? group.get() : cls == H5P_FILE_CREATE ? file.get() : dataset.get();
}
}  // namespace

namespace {
hid_t native_type(DType d) {
  switch (d) {
    case DType::F32: return H5T_NATIVE_FLOAT;
    case DType::F64: return H5T_NATIVE_DOUBLE;
    case DType::I32: return H5T_NATIVE_INT32;
  }
  return H5T_NATIVE_FLOAT;
}

std::string at(const std::string& where, const std::string& name) { return where + "/" + name; }

Hid scalar_space() { return Hid(H5Screate(H5S_SCALAR)); }

// A fixed-length string type of max(len, 1) bytes padded with NULs (h5py reads it as bytes).
Hid string_type(size_t len) {
  Hid t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.get(), len == 0 ? 1 : len);
  H5Tset_strpad(t.get(), H5T_STR_NULLPAD);
  return t;
}

std::string read_fixed_string(const File& f, hid_t type, const std::string& what, bool is_attr, hid_t obj) {
  if (H5Tget_class(type) != H5T_STRING || H5Tis_variable_str(type) > 0) f.fail(what + " is not a fixed-length string");
  const size_t size = H5Tget_size(type);
  std::string buf(size, '\0');
  Hid mem(H5Tcopy(type));
  const herr_t rc = is_attr ? H5Aread(obj, mem.get(), buf.data())
                            : H5Dread(obj, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data());
  if (rc < 0) f.fail("cannot read " + what);
  const size_t end = buf.find('\0');
  if (end != std::string::npos) buf.resize(end);
  return buf;
}
}  // namespace

void File::fail(const std::string& what) const { throw Error("checkpoint '" + path_ + "': " + what); }

File File::create(const std::string& path) {
  silence_errors();
  File f;
  f.path_ = path;
  f.handle_ = Hid(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, untimed(H5P_FILE_CREATE), H5P_DEFAULT));
  if (!f.handle_.valid()) f.fail("cannot create the file (does its folder exist, and is it writable?)");
  return f;
}

File File::open_read(const std::string& path) {
  silence_errors();
  File f;
  f.path_ = path;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) f.fail("no such file");
  if (!S_ISREG(st.st_mode)) f.fail("not a regular file");
  if (H5Fis_hdf5(path.c_str()) <= 0) f.fail("not an HDF5 file (or its header is damaged)");
  f.handle_ = Hid(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  // A file cut short still has a valid superblock; HDF5 refuses it here because its recorded
  // end-of-file lies beyond the real one.
  if (!f.handle_.valid()) f.fail("cannot open as HDF5: the file is truncated or damaged");
  return f;
}

void File::close() {
  errno = 0;
  if (!handle_.close())
    fail(errno == ENOSPC ? "no space left on the device (closing and flushing the file failed)"
                         : "closing (flushing) the file failed");
}

Hid create_group(const File& f, hid_t parent, const std::string& name, const std::string& where) {
  if (exists(parent, name)) f.fail("'" + at(where, name) + "' is written twice (duplicate name)");
  Hid g(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, untimed(H5P_GROUP_CREATE), H5P_DEFAULT));
  if (!g.valid()) f.fail("cannot create group '" + at(where, name) + "'");
  return g;
}

bool exists(hid_t parent, const std::string& name) { return H5Lexists(parent, name.c_str(), H5P_DEFAULT) > 0; }

Hid open_group(const File& f, hid_t parent, const std::string& name, const std::string& where) {
  if (!exists(parent, name)) return Hid();
  Hid g(H5Gopen2(parent, name.c_str(), H5P_DEFAULT));
  if (!g.valid()) f.fail("'" + at(where, name) + "' is not a readable group");
  return g;
}

std::vector<std::string> list_members(const File& f, hid_t group, const std::string& where) {
  H5G_info_t info;
  if (H5Gget_info(group, &info) < 0) f.fail("cannot list '" + where + "'");
  std::vector<std::string> out;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) f.fail("cannot list '" + where + "'");
    std::string name(static_cast<size_t>(len) + 1, '\0');
    H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(static_cast<size_t>(len));
    out.push_back(name);
  }
  return out;
}

void write_tensor(const File& f, hid_t group, const std::string& name, const Tensor& t, const std::string& where) {
  if (!t.defined()) f.fail("'" + at(where, name) + "' is an undefined tensor");
  std::vector<hsize_t> dims(t.shape().begin(), t.shape().end());
  Hid space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  const hid_t type = native_type(t.dtype());
  if (exists(group, name)) f.fail("'" + at(where, name) + "' is written twice (duplicate name)");
  Hid d(H5Dcreate2(group, name.c_str(), type, space.get(), H5P_DEFAULT, untimed(H5P_DATASET_CREATE), H5P_DEFAULT));
  if (!d.valid()) f.fail("cannot create dataset '" + at(where, name) + "'");
  if (t.numel() == 0) return;
  const Tensor host = t.device() == Device::CPU ? t : t.to(Device::CPU);
  errno = 0;
  if (H5Dwrite(d.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, host.raw_data()) < 0)
    // A full disk is the usual cause (HDF5's file driver leaves the write's errno): say so.
    f.fail(std::string(errno == ENOSPC ? "no space left on the device: " : "") + "cannot write dataset '" +
           at(where, name) + "'");
}

TensorInfo tensor_info(const File& f, hid_t group, const std::string& name, const std::string& where) {
  TensorInfo info;
  H5O_info_t oinfo;
  if (H5Oget_info_by_name(group, name.c_str(), &oinfo, H5P_DEFAULT) < 0)
    f.fail("cannot inspect '" + at(where, name) + "'");
  if (oinfo.type != H5O_TYPE_DATASET) {
    info.problem = "not a dataset";
    return info;
  }
  Hid d(H5Dopen2(group, name.c_str(), H5P_DEFAULT));
  if (!d.valid()) f.fail("cannot open dataset '" + at(where, name) + "'");
  Hid space(H5Dget_space(d.get()));
  Hid type(H5Dget_type(d.get()));
  if (!space.valid() || !type.valid()) f.fail("cannot read the header of '" + at(where, name) + "'");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 1 || rank > 4) {
    info.problem = "rank " + std::to_string(rank) + " (tensors have rank 1 to 4)";
    return info;
  }
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  info.shape.assign(dims.begin(), dims.end());
  const H5T_class_t cls = H5Tget_class(type.get());
  const size_t size = H5Tget_size(type.get());
  if (cls == H5T_FLOAT && size == 4) info.dtype = DType::F32;
  else if (cls == H5T_FLOAT && size == 8) info.dtype = DType::F64;
  else if (cls == H5T_INTEGER && size == 4) info.dtype = DType::I32;
  else {
    info.problem = "element type is not float32, float64 or int32";
    return info;
  }
  info.ok = true;
  return info;
}

Tensor read_tensor(const File& f, hid_t group, const std::string& name, const TensorInfo& info,
                   const std::string& where) {
  Tensor t = Tensor::empty(info.shape, info.dtype, Device::CPU);
  if (t.numel() == 0) return t;
  Hid d(H5Dopen2(group, name.c_str(), H5P_DEFAULT));
  if (!d.valid() || H5Dread(d.get(), native_type(info.dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, t.raw_data()) < 0)
    f.fail("cannot read dataset '" + at(where, name) + "' (truncated or damaged file?)");
  return t;
}

void write_u64(const File& f, hid_t group, const std::string& name, const std::vector<uint64_t>& v,
               const std::string& where) {
  const hsize_t n = v.size();
  Hid space(H5Screate_simple(1, &n, nullptr));
  if (exists(group, name)) f.fail("'" + at(where, name) + "' is written twice (duplicate name)");
  Hid d(H5Dcreate2(group, name.c_str(), H5T_NATIVE_UINT64, space.get(), H5P_DEFAULT, untimed(H5P_DATASET_CREATE), H5P_DEFAULT));
  if (!d.valid() || H5Dwrite(d.get(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
    f.fail("cannot write '" + at(where, name) + "'");
}

std::vector<uint64_t> read_u64(const File& f, hid_t group, const std::string& name, const std::string& where) {
  Hid d(H5Dopen2(group, name.c_str(), H5P_DEFAULT));
  if (!d.valid()) f.fail("cannot open dataset '" + at(where, name) + "'");
  Hid space(H5Dget_space(d.get()));
  Hid type(H5Dget_type(d.get()));
  if (H5Sget_simple_extent_ndims(space.get()) != 1 || H5Tget_class(type.get()) != H5T_INTEGER)
    f.fail("'" + at(where, name) + "' is not a 1-D integer dataset");
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  std::vector<uint64_t> v(static_cast<size_t>(n));
  if (n > 0 && H5Dread(d.get(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
    f.fail("cannot read '" + at(where, name) + "' (truncated or damaged file?)");
  return v;
}

void write_attr_i64(const File& f, hid_t obj, const std::string& name, int64_t v) {
  Hid space = scalar_space();
  Hid a(H5Acreate2(obj, name.c_str(), H5T_NATIVE_INT64, space.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid() || H5Awrite(a.get(), H5T_NATIVE_INT64, &v) < 0) f.fail("cannot write attribute '" + name + "'");
}

int64_t read_attr_i64(const File& f, hid_t obj, const std::string& name) {
  if (H5Aexists(obj, name.c_str()) <= 0) f.fail("attribute '" + name + "' is missing");
  Hid a(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  int64_t v = 0;
  if (!a.valid() || H5Aread(a.get(), H5T_NATIVE_INT64, &v) < 0) f.fail("cannot read attribute '" + name + "'");
  return v;
}

void write_attr_f64(const File& f, hid_t obj, const std::string& name, double v, const std::string& where) {
  Hid space = scalar_space();
  Hid a(H5Acreate2(obj, name.c_str(), H5T_NATIVE_DOUBLE, space.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid() || H5Awrite(a.get(), H5T_NATIVE_DOUBLE, &v) < 0)
    f.fail("cannot write attribute '" + at(where, name) + "'");
}

double read_attr_f64(const File& f, hid_t obj, const std::string& name, const std::string& where) {
  if (H5Aexists(obj, name.c_str()) <= 0) f.fail("attribute '" + at(where, name) + "' is missing");
  Hid a(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  double v = 0;
  if (!a.valid() || H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v) < 0)
    f.fail("cannot read attribute '" + at(where, name) + "'");
  return v;
}

void write_attr_string(const File& f, hid_t obj, const std::string& name, const std::string& v) {
  Hid type = string_type(v.size());
  Hid space = scalar_space();
  Hid a(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT));
  std::string buf = v.empty() ? std::string(1, '\0') : v;
  if (!a.valid() || H5Awrite(a.get(), type.get(), buf.data()) < 0) f.fail("cannot write attribute '" + name + "'");
}

std::string read_attr_string(const File& f, hid_t obj, const std::string& name) {
  if (H5Aexists(obj, name.c_str()) <= 0) f.fail("attribute '" + name + "' is missing");
  Hid a(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  if (!a.valid()) f.fail("cannot open attribute '" + name + "'");
  Hid type(H5Aget_type(a.get()));
  return read_fixed_string(f, type.get(), "attribute '" + name + "'", true, a.get());
}

void write_string(const File& f, hid_t group, const std::string& name, const std::string& v) {
  Hid type = string_type(v.size());
  Hid space = scalar_space();
  Hid d(H5Dcreate2(group, name.c_str(), type.get(), space.get(), H5P_DEFAULT, untimed(H5P_DATASET_CREATE), H5P_DEFAULT));
  std::string buf = v.empty() ? std::string(1, '\0') : v;
  if (!d.valid() || H5Dwrite(d.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
    f.fail("cannot write '" + name + "'");
}

std::string read_string(const File& f, hid_t group, const std::string& name) {
  if (!exists(group, name)) f.fail("'" + name + "' is missing");
  Hid d(H5Dopen2(group, name.c_str(), H5P_DEFAULT));
  if (!d.valid()) f.fail("cannot open '" + name + "'");
  Hid type(H5Dget_type(d.get()));
  return read_fixed_string(f, type.get(), "'" + name + "'", false, d.get());
}

}  // namespace cg::nn::h5
