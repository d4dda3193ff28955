#pragma once
// The one RAII handle over the HDF5 C API, shared by the checkpoint files (nn/hdf5_tensor_io.h)
// and the data readers and writers (omics/hdf5_util.h), which each add their own error messages
// on top. It lives in base/ (header-only, no dependency on any other folder of this repository)
// because nn must not depend on omics nor omics on autograd/nn, and both need it.
#include <hdf5.h>

#include <string>

namespace cg::h5 {

// Owns one HDF5 identifier of any kind (file, group, dataset, attribute, type, space, plist);
// the destructor closes it with the matching H5?close.
class Hid {
 public:
  Hid() = default;
  explicit Hid(hid_t id) : id_(id) {}
  ~Hid() { reset(); }
  Hid(Hid&& o) noexcept : id_(o.id_) { o.id_ = -1; }
  Hid& operator=(Hid&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      o.id_ = -1;
    }
    return *this;
  }
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;

  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }  // NOLINT: handles pass straight to the C API
  bool valid() const { return id_ >= 0; }
  // Closes now, ignoring failure (destructors, error paths).
  void reset() {
    if (id_ >= 0) close_id(id_);
    id_ = -1;
  }
  // Closes now and reports whether HDF5 accepted it. Closing a file flushes it, so a write that
  // failed late (a full disk) shows here: writers close explicitly before renaming into place.
  bool close() {
    const hid_t id = id_;
    id_ = -1;
    return id < 0 || close_id(id) >= 0;
  }

 private:
  static herr_t close_id(hid_t id) {
    if (H5Iis_valid(id) <= 0) return -1;
    switch (H5Iget_type(id)) {
      case H5I_FILE: return H5Fclose(id);
      case H5I_GROUP: return H5Gclose(id);
      case H5I_DATASET: return H5Dclose(id);
      case H5I_ATTR: return H5Aclose(id);
      case H5I_DATATYPE: return H5Tclose(id);
      case H5I_DATASPACE: return H5Sclose(id);
      case H5I_GENPROP_LST: return H5Pclose(id);
      default: return H5Idec_ref(id) < 0 ? -1 : 0;
    }
  }

  hid_t id_ = -1;
};

// Turns off HDF5's automatic printing of error stacks for this thread, so that only our own
// messages reach the user.
inline void silence_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

// The innermost (most specific) message on HDF5's current error stack, or "" if empty.
inline std::string last_error() {
  std::string msg;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
        auto* s = static_cast<std::string*>(data);
        if (s->empty() && e->desc && *e->desc) *s = e->desc;
        return 0;
      },
      &msg);
  return msg;
}

}  // namespace cg::h5
