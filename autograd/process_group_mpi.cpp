// ProcessGroup over MPI (Open MPI from Debian), built when mpi.h is installed (CELLGRAD_MPI).
#include <algorithm>
#include <cstdlib>
#include <string>

#include "autograd/process_group.h"
#include "base/error.h"
#ifdef CELLGRAD_CUDA
#include <memory>

#include "kernels/cuda/nccl.h"
#include "kernels/cuda/runtime.h"
#endif

#ifdef CELLGRAD_MPI
// The C API only: the deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace cg {
namespace {

ProcessGroup* g_launched = nullptr;

}  // namespace

// mpirun (Open MPI, MPICH, Slurm's PMI) tells its processes their size in the environment.
bool started_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
    const char* s = std::getenv(v);
    if (s && *s) return true;
  }
  return false;
}

namespace {

#ifdef CELLGRAD_MPI
void check(int status, const char* call) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(status, text, &len);
  throw Error(std::string("MPI error in ") + call + ": " + std::string(text, static_cast<size_t>(len)));
}

class MpiGroup final : public ProcessGroup {
 public:
  MpiGroup() {
    int ready = 0;
    MPI_Initialized(&ready);
    if (!ready) check(MPI_Init(nullptr, nullptr), "MPI_Init");
    // Errors come back as status codes (turned into cg::Error) instead of aborting the job, so
    // a process can say what failed before the group stops.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
#ifdef CELLGRAD_CUDA
    const int gpus = kernels::cuda::device_count();
    const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
    if (gpus > 1) kernels::cuda::set_device((local ? std::atoi(local) : rank_) % gpus);
#endif
    std::atexit([] {
      int done = 0;
      MPI_Finalized(&done);
      if (!done) MPI_Finalize();
    });
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void all_reduce_sum(float* data, int64_t n) override { reduce(data, n, MPI_FLOAT); }
  void all_reduce_sum(double* data, int64_t n) override { reduce(data, n, MPI_DOUBLE); }
  void broadcast(float* data, int64_t n) override { bcast(data, n, MPI_FLOAT); }
  void broadcast(double* data, int64_t n) override { bcast(data, n, MPI_DOUBLE); }
  void all_reduce_sum_device(float* device_data, int64_t n) override { nccl().all_reduce_sum(device_data, n); }
  void broadcast_device(float* device_data, int64_t n) override { nccl().broadcast(device_data, n); }

 private:
#ifdef CELLGRAD_CUDA
  // Rank 0 makes the NCCL id and MPI sends it to the others.
  kernels::cuda::NcclComm& nccl() {
    if (!nccl_) {
      kernels::cuda::NcclId id{};
      if (rank_ == 0) id = kernels::cuda::nccl_unique_id();
      check(MPI_Bcast(id.data(), static_cast<int>(id.size()), MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Bcast");
      nccl_ = std::make_unique<kernels::cuda::NcclComm>(id, rank_, size_);
    }
    return *nccl_;
  }
  std::unique_ptr<kernels::cuda::NcclComm> nccl_;
#else
  struct NoDevice {
    [[noreturn]] void all_reduce_sum(float*, int64_t) { fail(); }
    [[noreturn]] void broadcast(float*, int64_t) { fail(); }
    [[noreturn]] static void fail() { throw Error("a CUDA collective in a build without CUDA"); }
  };
  NoDevice nccl() { return {}; }
#endif
  // MPI counts are int: large buffers go in pieces.
  static constexpr int64_t kPiece = int64_t(1) << 30;
  template <class T> void reduce(T* data, int64_t n, MPI_Datatype type) {
    for (int64_t at = 0; at < n; at += kPiece)
      check(MPI_Allreduce(MPI_IN_PLACE, data + at, static_cast<int>(std::min(kPiece, n - at)), type, MPI_SUM,
                          MPI_COMM_WORLD),
            "MPI_Allreduce");
  }
  template <class T> void bcast(T* data, int64_t n, MPI_Datatype type) {
    for (int64_t at = 0; at < n; at += kPiece)
      check(MPI_Bcast(data + at, static_cast<int>(std::min(kPiece, n - at)), type, 0, MPI_COMM_WORLD), "MPI_Bcast");
  }
  int rank_ = 0, size_ = 1;
};
#endif

}  // namespace

std::string process_group_unavailable_reason() {
#ifdef CELLGRAD_MPI
  return "";
#else
  return "this build has no MPI (install libopenmpi-dev and openmpi-bin, e.g. with make deps, and rebuild)";
#endif
}

ProcessGroup* current_process_group() { return g_launched; }

ProcessGroup* launched_process_group() {
  if (!started_by_mpirun()) return nullptr;
#ifdef CELLGRAD_MPI
  static MpiGroup* group = new MpiGroup();  // lives until exit (MPI is finalised by atexit)
  g_launched = group;
  return group;
#else
  throw Error("started by mpirun, but " + process_group_unavailable_reason());
#endif
}

}  // namespace cg
