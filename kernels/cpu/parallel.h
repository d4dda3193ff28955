#pragma once
// Work sharing for the CPU kernels, in place of OpenMP parallel loops.
//
// Why not `#pragma omp parallel for`: on a machine with more runnable threads than cores (2
// cores shared with compilers and other jobs is the normal case here), OpenMP's end-of-loop
// barrier waits for a worker the OS has not scheduled yet, and libgomp's idle workers spin,
// burning this process's share of the CPU. Measured on the scGen step at load 5 on 2 cores:
// 180 ms with libgomp's default spinning, 99 ms with OMP_WAIT_POLICY=passive, 97 ms on 1 thread.
//
// Here the calling thread claims fixed chunks of the range one by one, and sleeping helper
// threads claim chunks too once they are woken; the caller only ever waits for a chunk a helper
// is already running, never for a helper that has not started. Idle helpers sleep (no spin).
// Chunk boundaries depend only on the range and the grain, never on the thread count or on
// which thread ran a chunk, so the results are the same bits for any thread count.
//
// The thread count is omp_get_max_threads() (OMP_NUM_THREADS / omp_set_num_threads govern it).
// Calls from inside a chunk (nested) or from inside an OpenMP parallel region run serially.
#include <cstdint>
#include <type_traits>

namespace cg::kernels::cpu {

namespace detail {
using ChunkFn = void (*)(void* ctx, int64_t lo, int64_t hi);
// Runs fn(ctx, lo, hi) over [0, n) in chunks of `grain` (the last may be shorter).
void run_chunks(int64_t n, int64_t grain, ChunkFn fn, void* ctx);
bool run_serially(int64_t n, int64_t grain);
}  // namespace detail

// body(lo, hi) for consecutive ranges covering [0, n), each at most `grain` long. With one
// thread or n <= grain, body(0, n) is called once on the calling thread; callers whose result
// depends on the split (reductions) must chunk by `grain` themselves inside body.
template <class F> void parallel_for(int64_t n, int64_t grain, F&& body) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  if (detail::run_serially(n, grain)) {
    body(int64_t(0), n);
    return;
  }
  detail::run_chunks(
      n, grain, [](void* ctx, int64_t lo, int64_t hi) { (*static_cast<std::remove_reference_t<F>*>(ctx))(lo, hi); },
      const_cast<void*>(static_cast<const void*>(&body)));
}

// Elements per chunk for memory-bound elementwise loops (128 KiB of floats): below 2 chunks'
// worth a loop stays on the calling thread, as the old `if (n > 65536)` did.
constexpr int64_t kElementwiseGrain = 32768;
// Rows per chunk for a row loop of `cols` columns with the same amount of work per chunk.
inline int64_t row_grain(int64_t cols) {
  return cols >= kElementwiseGrain ? 1 : kElementwiseGrain / (cols > 0 ? cols : 1);
}

}  // namespace cg::kernels::cpu
