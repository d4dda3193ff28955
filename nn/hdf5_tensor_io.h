#pragma once
// Small RAII layer over the HDF5 C API for checkpoints: handles that close themselves, groups,
// tensor datasets, uint64 vectors, int64/string attributes, and listing a group's members.
// Every failure throws cg::Error starting with "checkpoint '<file>': ". HDF5's own error
// printing is switched off (H5Eset_auto2) so that only these messages reach the user.
#include <hdf5.h>

#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace cg::nn::h5 {

class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      close_ = o.close_;
      o.id_ = -1;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t id() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now and reports whether HDF5 accepted it (closing the file flushes it).
  bool close() {
    const bool ok = id_ < 0 || close_(id_) >= 0;
    id_ = -1;
    return ok;
  }

 private:
  void reset() {
    if (id_ >= 0) close_(id_);
    id_ = -1;
  }
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

void silence_errors();

// The context for error messages: the file's path.
class File {
 public:
  static File create(const std::string& path);     // truncates
  static File open_read(const std::string& path);  // read-only; clear error for missing/non-HDF5 files
  hid_t id() const { return handle_.id(); }
  const std::string& path() const { return path_; }
  void close();  // throws when HDF5 fails to flush
  [[noreturn]] void fail(const std::string& what) const;

 private:
  std::string path_;
  Handle handle_;
};

Handle create_group(const File& f, hid_t parent, const std::string& name, const std::string& where);
// An empty handle when the group does not exist.
Handle open_group(const File& f, hid_t parent, const std::string& name, const std::string& where);
bool exists(hid_t parent, const std::string& name);
std::vector<std::string> list_members(const File& f, hid_t group, const std::string& where);

// Datasets holding tensors (any device: CUDA tensors are copied to the host first).
void write_tensor(const File& f, hid_t group, const std::string& name, const Tensor& t, const std::string& where);
// What a tensor dataset holds, without reading the data; ok = false when the dataset is not a
// tensor this engine can hold (rank 1-4, float32/float64/int32), with `problem` saying why.
struct TensorInfo {
  bool ok = false;
  Shape shape;
  DType dtype = DType::F32;
  std::string problem;
};
TensorInfo tensor_info(const File& f, hid_t group, const std::string& name, const std::string& where);
Tensor read_tensor(const File& f, hid_t group, const std::string& name, const TensorInfo& info, const std::string& where);

void write_u64(const File& f, hid_t group, const std::string& name, const std::vector<uint64_t>& v, const std::string& where);
std::vector<uint64_t> read_u64(const File& f, hid_t group, const std::string& name, const std::string& where);

void write_attr_i64(const File& f, hid_t obj, const std::string& name, int64_t v);
int64_t read_attr_i64(const File& f, hid_t obj, const std::string& name);
void write_attr_f64(const File& f, hid_t obj, const std::string& name, double v, const std::string& where);
double read_attr_f64(const File& f, hid_t obj, const std::string& name, const std::string& where);
void write_attr_string(const File& f, hid_t obj, const std::string& name, const std::string& v);
std::string read_attr_string(const File& f, hid_t obj, const std::string& name);
// A scalar fixed-length string dataset (no 64 KiB limit, unlike attributes).
void write_string(const File& f, hid_t group, const std::string& name, const std::string& v);
std::string read_string(const File& f, hid_t group, const std::string& name);

}  // namespace cg::nn::h5
