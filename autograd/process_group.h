#pragma once
// The processes of one data-parallel training run (mpirun -np K): each holds the whole model,
// takes its share of every global minibatch, and the gradients are averaged across processes
// before each optimizer step, so every process keeps the same parameters. Collectives go through
// an existing engine (MPI on the CPU), not a home-made one.
#include <cstdint>
#include <memory>
#include <string>

namespace cg {

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // In place, the element-wise sum over all processes (every process gets the result).
  virtual void all_reduce_sum(float* data, int64_t n) = 0;
  virtual void all_reduce_sum(double* data, int64_t n) = 0;
  // Rank 0's values to every process.
  virtual void broadcast(float* data, int64_t n) = 0;
  virtual void broadcast(double* data, int64_t n) = 0;
  // The same on float32 CUDA memory, through NCCL (one GPU per process; the communicator is
  // made at the first call, its id sent by MPI). cg::Error when NCCL cannot be loaded.
  virtual void all_reduce_sum_device(float* device_data, int64_t n) = 0;
  virtual void broadcast_device(float* device_data, int64_t n) = 0;
};

// The group of the processes mpirun started this one with; null when it was not started by
// mpirun (a single process). cg::Error when it was, but this build has no MPI (says how to get
// it). The first call initialises MPI (it is finalised at exit) and, on a machine with several
// GPUs, makes this process use GPU (local rank mod GPUs): call it before any CUDA work.
ProcessGroup* launched_process_group();
// The group launched_process_group() returned before, without starting MPI; null before that
// or in a single process. nn::fit trains data-parallel in it unless told otherwise.
ProcessGroup* current_process_group();
// Whether this process was started by mpirun (reads the environment only).
bool started_by_mpirun();
// Whether this build can run under mpirun ("" when it can; otherwise why not).
std::string process_group_unavailable_reason();

}  // namespace cg
