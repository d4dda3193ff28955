#pragma once
// Allocators. CPU: 64-byte aligned blocks; blocks of 32 MiB or more are cached for reuse (at
// most 2 GiB), since the C library maps and faults them in afresh on every request. CUDA: a caching allocator that
// keeps freed blocks in size-class free lists, so that a steady-state training step (same shapes every step) reuses
// memory and makes no cudaMalloc/cudaFree calls.
#include <cstddef>
#include <cstdint>

namespace cg {

void* cpu_allocate(size_t bytes);
void cpu_deallocate(void* p, size_t bytes);  // bytes: as given to cpu_allocate

struct CudaAllocatorStats {
  uint64_t device_mallocs = 0;  // real cudaMalloc calls so far
  uint64_t device_frees = 0;    // real cudaFree calls so far
  uint64_t cache_hits = 0;
  size_t bytes_in_use = 0;
  size_t bytes_cached = 0;
};

void* cuda_allocate(size_t bytes);
void cuda_deallocate(void* p);
CudaAllocatorStats cuda_allocator_stats();
// Return every cached block to the driver (tests; before handing memory to other processes).
void cuda_empty_cache();

}  // namespace cg
