#pragma once
// Small layer over the HDF5 C API for checkpoints, on the shared handles of base/hdf5_handle.h:
// groups, tensor datasets, uint64 vectors, int64/string attributes, listing a group's members.
// Every failure throws cg::Error starting with "checkpoint '<file>': ". HDF5's own error
// printing is switched off (H5Eset_auto2) so that only these messages reach the user.
#include <hdf5.h>

#include <string>
#include <vector>

#include "autograd/tensor.h"
#include "base/hdf5_handle.h"

namespace cg::nn::h5 {

// The RAII handle and silence_errors() are shared with omics' readers: base/hdf5_handle.h.
using ::cg::h5::Hid;
using ::cg::h5::silence_errors;

// The context for error messages: the file's path.
class File {
 public:
  static File create(const std::string& path);     // truncates
  static File open_read(const std::string& path);  // read-only; clear error for missing/non-HDF5 files
  hid_t id() const { return handle_.get(); }
  const std::string& path() const { return path_; }
  void close();  // throws when HDF5 fails to flush
  [[noreturn]] void fail(const std::string& what) const;

 private:
  std::string path_;
  Hid handle_;
};

Hid create_group(const File& f, hid_t parent, const std::string& name, const std::string& where);
// An empty handle when the group does not exist.
Hid open_group(const File& f, hid_t parent, const std::string& name, const std::string& where);
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
Tensor read_tensor(const File& f, hid_t group, const std::string& name, const TensorInfo& info,
                   const std::string& where);

void write_u64(const File& f, hid_t group, const std::string& name, const std::vector<uint64_t>& v,
               const std::string& where);
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
