#pragma once
// Allocators. CPU: 64-byte aligned blocks; blocks of 1 MiB or more are cached for reuse (at
// most 2 GiB), since the C library faults their pages in afresh on every request. CUDA: a caching allocator that
// keeps freed blocks in size-class free lists, so that a steady-state training step (same shapes every step) reuses
// memory and makes no cudaMalloc/cudaFree calls. With CELLGRAD_CUDA_EXACT_ALLOC=1 in the environment
// (read once, at the first CUDA allocation) it caches nothing and asks the driver for exactly the
// bytes requested, so that compute-sanitizer's memcheck sees every overrun past a tensor's end,
// which a size class's slack would otherwise hide; every free is a cudaFree.
#include <cstddef>
#include <cstdint>

namespace cg {

void* cpu_allocate(size_t bytes);
void cpu_deallocate(void* p, size_t bytes);  // bytes: as given to cpu_allocate

// Bytes of CPU tensor storage handed out and not yet returned (as requested, before rounding),
// and the most there has been since the last reset_cpu_peak_bytes(): what the live tensors hold,
// for memory checks and benchmarks (the large-block cache is not counted).
struct CpuAllocatorStats {
  size_t bytes_in_use = 0;
  size_t peak_bytes_in_use = 0;
};
CpuAllocatorStats cpu_allocator_stats();
void reset_cpu_peak_bytes();  // peak := current

struct CudaAllocatorStats {
  uint64_t device_mallocs = 0;  // real cudaMalloc calls so far
  uint64_t device_frees = 0;    // real cudaFree calls so far
  uint64_t cache_hits = 0;
  size_t bytes_in_use = 0;
  size_t bytes_cached = 0;
};

// The bytes a CUDA request of `bytes` takes from the driver: its size class (512-byte steps below
// 1 MiB, 1 MiB steps above), or in exact mode the request itself (at least 1).
size_t cuda_block_bytes(size_t bytes, bool exact);
// Whether an environment value switches exact mode on ("1", "true", "yes", "on"; unset or
// anything else: off).
bool cuda_exact_alloc_requested(const char* env_value);
// Exact mode for this process: CELLGRAD_CUDA_EXACT_ALLOC as read at the first call, unless a
// test has set it. Blocks keep the mode they were allocated in, so switching is safe any time.
bool cuda_exact_alloc();
void set_cuda_exact_alloc(bool exact);

void* cuda_allocate(size_t bytes);
void cuda_deallocate(void* p);
CudaAllocatorStats cuda_allocator_stats();
// Return every cached block to the driver (tests; before handing memory to other processes).
void cuda_empty_cache();

}  // namespace cg
