#include <dlfcn.h>
#include <nccl.h>

#include <cstring>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/nccl.h"

namespace cg::kernels::cuda {
namespace {

// The NCCL entry points, looked up once in libnccl.so.2.
struct NcclApi {
  decltype(&ncclGetUniqueId) get_unique_id = nullptr;
  decltype(&ncclCommInitRank) comm_init_rank = nullptr;
  decltype(&ncclCommDestroy) comm_destroy = nullptr;
  decltype(&ncclAllReduce) all_reduce = nullptr;
  decltype(&ncclBroadcast) broadcast = nullptr;
  decltype(&ncclGetErrorString) error_string = nullptr;
  std::string problem;  // "" when loaded
};

const NcclApi& api() {
  static const NcclApi loaded = [] {
    NcclApi a;
    // The library path first, then where the CUDA toolkit keeps it (its lib/, not lib64/).
    void* lib = nullptr;
    for (const char* name : {"libnccl.so.2", "/usr/local/cuda/lib/libnccl.so.2", "/usr/local/cuda/lib64/libnccl.so.2"})
      if (!lib) lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* why = dlerror();
      a.problem = std::string("cannot load NCCL (libnccl.so.2): ") + (why ? why : "not found") +
                  "; put the CUDA toolkit's lib folder on LD_LIBRARY_PATH";
      return a;
    }
    auto find = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
      if (!fn && a.problem.empty()) a.problem = std::string("libnccl.so.2 has no ") + name;
    };
    find(a.get_unique_id, "ncclGetUniqueId");
    find(a.comm_init_rank, "ncclCommInitRank");
    find(a.comm_destroy, "ncclCommDestroy");
    find(a.all_reduce, "ncclAllReduce");
    find(a.broadcast, "ncclBroadcast");
    find(a.error_string, "ncclGetErrorString");
    return a;
  }();
  return loaded;
}

const NcclApi& loaded_api() {
  const NcclApi& a = api();
  if (!a.problem.empty()) throw Error(a.problem);
  return a;
}

void check(ncclResult_t r, const char* call) {
  if (r == ncclSuccess) return;
  throw Error(std::string("NCCL error in ") + call + ": " + loaded_api().error_string(r));
}

}  // namespace

std::string nccl_unavailable_reason() { return api().problem; }

NcclId nccl_unique_id() {
  ncclUniqueId id;
  check(loaded_api().get_unique_id(&id), "ncclGetUniqueId");
  NcclId out;
  std::memcpy(out.data(), id.internal, out.size());
  return out;
}

NcclComm::NcclComm(const NcclId& id, int rank, int size) {
  ncclUniqueId nid;
  std::memcpy(nid.internal, id.data(), id.size());
  ncclComm_t comm = nullptr;
  check(loaded_api().comm_init_rank(&comm, size, nid, rank), "ncclCommInitRank");
  comm_ = comm;
}

NcclComm::~NcclComm() {
  if (comm_) api().comm_destroy(static_cast<ncclComm_t>(comm_));
}

void NcclComm::all_reduce_sum(float* device_data, int64_t n) {
  if (n <= 0) return;
  check(loaded_api().all_reduce(device_data, device_data, static_cast<size_t>(n), ncclFloat32, ncclSum,
                                static_cast<ncclComm_t>(comm_), nullptr),
        "ncclAllReduce");
  CG_CUDA_CHECK(cudaStreamSynchronize(nullptr));
}

void NcclComm::broadcast(float* device_data, int64_t n) {
  if (n <= 0) return;
  check(loaded_api().broadcast(device_data, device_data, static_cast<size_t>(n), ncclFloat32, 0,
                               static_cast<ncclComm_t>(comm_), nullptr),
        "ncclBroadcast");
  CG_CUDA_CHECK(cudaStreamSynchronize(nullptr));
}

}  // namespace cg::kernels::cuda
