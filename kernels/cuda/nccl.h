#pragma once
// NCCL collectives over float32 device buffers, for data-parallel training with one GPU per
// process (autograd/process_group.h). libnccl is loaded when first needed (dlopen), not linked:
// a machine without it still runs everything else, and asking for a collective there says so.
// Collectives run on the default stream, like every kernel here, and the call returns once the
// result is in place.
#include <array>
#include <cstdint>
#include <string>

namespace cg::kernels::cuda {

using NcclId = std::array<char, 128>;

// "" when libnccl.so.2 loads and has every function used; otherwise why not.
std::string nccl_unavailable_reason();
// A fresh communicator id (made by one process, then sent to the others, e.g. by MPI).
NcclId nccl_unique_id();

class NcclComm {
 public:
  NcclComm(const NcclId& id, int rank, int size);
  ~NcclComm();
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;
  void all_reduce_sum(float* device_data, int64_t n);
  void broadcast(float* device_data, int64_t n);  // from rank 0

 private:
  void* comm_ = nullptr;  // ncclComm_t
};

}  // namespace cg::kernels::cuda
