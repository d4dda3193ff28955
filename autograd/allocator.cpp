#include "autograd/allocator.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "autograd/error.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/runtime.h"
#endif

namespace cg {

namespace {

// Blocks of 32 MiB or more: glibc serves them with a fresh mmap every time (its mmap threshold
// cannot be raised past 32 MiB), so each allocation faults in every page again. Attributions on
// 14,000 genes allocate several 180 MB temporaries per output and spent ~40% of their time in
// the kernel doing that. Such blocks are kept here instead, by 1 MiB size class, up to
// kCpuCacheLimit bytes in all (beyond it a freed block goes back to the system).
constexpr size_t kCpuLargeBlock = size_t(32) << 20;
constexpr size_t kCpuCacheLimit = size_t(2) << 30;

size_t cpu_rounded(size_t bytes) {
  if (bytes >= kCpuLargeBlock) return ((bytes + (size_t(1) << 20) - 1) >> 20) << 20;
  const size_t rounded = ((bytes + 63) / 64) * 64;
  return rounded > 0 ? rounded : 64;
}

struct CpuLargeCache {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> free_blocks;  // rounded size -> blocks
  size_t bytes_cached = 0;
};

CpuLargeCache& cpu_cache() {
  static CpuLargeCache* c = new CpuLargeCache();  // never destroyed: tensors may outlive statics
  return *c;
}

}  // namespace

void* cpu_allocate(size_t bytes) {
  const size_t rounded = cpu_rounded(bytes);
  if (rounded >= kCpuLargeBlock) {
    CpuLargeCache& c = cpu_cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.free_blocks.find(rounded);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.bytes_cached -= rounded;
      return p;
    }
  }
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  return p;
}

void cpu_deallocate(void* p, size_t bytes) {
  if (!p) return;
  const size_t rounded = cpu_rounded(bytes);
  if (rounded >= kCpuLargeBlock) {
    CpuLargeCache& c = cpu_cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.bytes_cached + rounded <= kCpuCacheLimit) {
      c.free_blocks[rounded].push_back(p);
      c.bytes_cached += rounded;
      return;
    }
  }
  std::free(p);
}

namespace {

// Size classes: round to 512 bytes below 1 MiB, to 1 MiB above, so repeated requests of the
// same shape land in the same class and a freed block fits the next request exactly.
size_t size_class(size_t bytes) {
  const size_t small = 512, large = size_t(1) << 20;
  if (bytes < large) return ((bytes + small - 1) / small) * small;
  return ((bytes + large - 1) / large) * large;
}

struct CudaCache {
  std::mutex mutex;
  std::map<size_t, std::vector<void*>> free_blocks;  // size class -> cached blocks
  std::unordered_map<void*, size_t> live;            // block -> size class
  CudaAllocatorStats stats;
};
CudaCache& cache() {
  static CudaCache* c = new CudaCache();  // never destroyed: tensors may outlive static teardown
  return *c;
}

#ifdef CELLGRAD_CUDA
// Gives every parked block back to the device (the caller holds c.mutex).
void release_cached_blocks(CudaCache& c) {
  for (auto& [sz, blocks] : c.free_blocks)
    for (void* b : blocks) {
      kernels::cuda::raw_free(b);
      c.stats.device_frees++;
    }
  c.free_blocks.clear();
  c.stats.bytes_cached = 0;
}
#endif

}  // namespace

void* cuda_allocate(size_t bytes) {
#ifdef CELLGRAD_CUDA
  const size_t cls = size_class(bytes > 0 ? bytes : 1);
  CudaCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.free_blocks.find(cls);
  void* p = nullptr;
  if (it != c.free_blocks.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
    c.stats.cache_hits++;
    c.stats.bytes_cached -= cls;
  } else {
    try {
      p = kernels::cuda::raw_malloc(cls);
    } catch (const std::exception&) {
      // Out of memory with blocks parked in the cache: give them back and try once more.
      release_cached_blocks(c);
      p = kernels::cuda::raw_malloc(cls);
    }
    c.stats.device_mallocs++;
  }
  c.live[p] = cls;
  c.stats.bytes_in_use += cls;
  return p;
#else
  (void)bytes;
  throw Error("cuda_allocate: this build of cellgrad has no CUDA support (nvcc was not found at build time)");
#endif
}

void cuda_deallocate(void* p) {
  if (!p) return;
  CudaCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.live.find(p);
  if (it == c.live.end()) {
    // A pointer this allocator did not hand out, or one already freed: a double free or a
    // stray pointer, i.e. memory corruption that must not pass silently. This runs in
    // ~Storage (implicitly noexcept), where an exception would call std::terminate without a
    // message, so say what happened and abort: the core dump shows the call stack.
    std::fprintf(stderr,
                 "cellgrad: fatal: freeing CUDA memory at %p that is not allocated (double free or a pointer "
                 "not from cuda_allocate)\n",
                 p);
    std::abort();
  }
  const size_t cls = it->second;
  c.live.erase(it);
  c.free_blocks[cls].push_back(p);
  c.stats.bytes_in_use -= cls;
  c.stats.bytes_cached += cls;
}

CudaAllocatorStats cuda_allocator_stats() {
  CudaCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.stats;
}

void cuda_empty_cache() {
#ifdef CELLGRAD_CUDA
  CudaCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  release_cached_blocks(c);
#endif
}

}  // namespace cg
