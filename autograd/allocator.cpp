#include <algorithm>
#include "autograd/allocator.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

// Blocks of 1 MiB or more are kept here for reuse, by size class, up to kCpuCacheLimit bytes in
// all (beyond it a freed block goes back to the system). glibc serves large blocks with fresh
// pages (an mmap, or heap memory it has trimmed), so each allocation faults in every page again,
// and on the virtual machines we run on a page fault costs about 20 us: refilling a 22 MB
// tensor took 127 ms against 1.3 ms for a reused one (the first encoder layer's weight
// transpose, 800 x 6998). Attributions on 14,000 genes (several 180 MB temporaries per output)
// spent ~40% of their time in the kernel doing that. Size classes are 1/8 of the power of two
// below the request (at least 64 KiB), so rounding wastes at most 12.5%.
constexpr size_t kCpuLargeBlock = size_t(1) << 20;
constexpr size_t kCpuCacheLimit = size_t(2) << 30;

size_t cpu_rounded(size_t bytes) {
  if (bytes >= kCpuLargeBlock) {
    size_t power = kCpuLargeBlock;
    while (power * 2 <= bytes) power *= 2;
    const size_t step = std::max(size_t(64) << 10, power / 8);
    return (bytes + step - 1) / step * step;
  }
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

std::atomic<size_t> g_cpu_in_use{0}, g_cpu_peak{0};

void count_cpu_allocation(size_t bytes) {
  const size_t now = g_cpu_in_use.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  size_t peak = g_cpu_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_cpu_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

}  // namespace

CpuAllocatorStats cpu_allocator_stats() {
  CpuAllocatorStats s;
  s.bytes_in_use = g_cpu_in_use.load(std::memory_order_relaxed);
  s.peak_bytes_in_use = g_cpu_peak.load(std::memory_order_relaxed);
  return s;
}

void reset_cpu_peak_bytes() { g_cpu_peak.store(g_cpu_in_use.load(std::memory_order_relaxed), std::memory_order_relaxed); }

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
      count_cpu_allocation(bytes);
      return p;
    }
  }
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  count_cpu_allocation(bytes);
  return p;
}

void cpu_deallocate(void* p, size_t bytes) {
  if (!p) return;
  g_cpu_in_use.fetch_sub(bytes, std::memory_order_relaxed);
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

struct LiveBlock {
  size_t bytes;  // what the driver gave (the size class, or the exact request)
  bool exact;    // allocated in exact mode: goes straight back to the driver when freed
};

struct CudaCache {
  std::mutex mutex;
  std::map<size_t, std::vector<void*>> free_blocks;  // size class -> cached blocks
  std::unordered_map<void*, LiveBlock> live;
  CudaAllocatorStats stats;
};

// -1: not read yet; 0 / 1: the mode.
std::atomic<int>& exact_mode() {
  static std::atomic<int> mode{-1};
  return mode;
}
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

size_t cuda_block_bytes(size_t bytes, bool exact) {
  if (exact) return bytes > 0 ? bytes : 1;
  return size_class(bytes > 0 ? bytes : 1);
}

bool cuda_exact_alloc_requested(const char* v) {
  if (!v) return false;
  for (const char* on : {"1", "true", "yes", "on", "TRUE", "YES", "ON", "True"})
    if (std::strcmp(v, on) == 0) return true;
  return false;
}

bool cuda_exact_alloc() {
  int m = exact_mode().load();
  if (m < 0) {
    m = cuda_exact_alloc_requested(std::getenv("CELLGRAD_CUDA_EXACT_ALLOC")) ? 1 : 0;
    int expected = -1;
    if (!exact_mode().compare_exchange_strong(expected, m)) m = expected;  // another thread read it first
  }
  return m == 1;
}

void set_cuda_exact_alloc(bool exact) { exact_mode().store(exact ? 1 : 0); }

void* cuda_allocate(size_t bytes) {
#ifdef CELLGRAD_CUDA
  const bool exact = cuda_exact_alloc();
  const size_t cls = cuda_block_bytes(bytes, exact);
  CudaCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  void* p = nullptr;
  auto it = exact ? c.free_blocks.end() : c.free_blocks.find(cls);
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
  c.live[p] = LiveBlock{cls, exact};
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
  const LiveBlock block = it->second;
  c.live.erase(it);
  c.stats.bytes_in_use -= block.bytes;
#ifdef CELLGRAD_CUDA
  if (block.exact) {
    // This runs in ~Storage (noexcept). A failing cudaFree here is either the runtime already
    // torn down at process exit (a tensor with static lifetime), which is harmless, or an
    // earlier kernel fault reported late: say so and go on rather than terminate.
    try {
      kernels::cuda::raw_free(p);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cellgrad: cudaFree in exact-allocation mode failed: %s\n", e.what());
    }
    c.stats.device_frees++;
    return;
  }
#endif
  c.free_blocks[block.bytes].push_back(p);
  c.stats.bytes_cached += block.bytes;
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
