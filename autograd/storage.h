#pragma once
// Refcounted raw memory on one device. Tensors share a Storage through shared_ptr; the memory
// goes back to its allocator when the last tensor (view) releases it.
#include <cstddef>
#include <memory>

#include "autograd/dtype.h"

namespace cg {

class Storage {
 public:
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
};

using StoragePtr = std::shared_ptr<Storage>;

}  // namespace cg
