#include "kernels/cpu/parallel.h"

#include <omp.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace cg::kernels::cpu {
namespace {

thread_local bool t_in_chunk = false;  // nested calls run serially

struct Job {
  detail::ChunkFn fn = nullptr;
  void* ctx = nullptr;
  int64_t n = 0, grain = 1, chunks = 0;
  int helpers_wanted = 0;
  std::atomic<int> helpers_joined{0};
  std::atomic<int64_t> next{0}, done{0};

  // Claims and runs chunks until none is left. Returns after the last claimed chunk is done.
  void work() {
    const bool was = t_in_chunk;
    t_in_chunk = true;
    for (;;) {
      const int64_t c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks) break;
      const int64_t lo = c * grain, hi = lo + grain < n ? lo + grain : n;
      fn(ctx, lo, hi);
      done.fetch_add(1, std::memory_order_release);
    }
    t_in_chunk = was;
  }
};

class Pool {
 public:
  void run(const std::shared_ptr<Job>& job) {
    ensure_helpers(job->helpers_wanted);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = job;
      ++generation_;
    }
    wake_.notify_all();
    job->work();
    // Only chunks already claimed by a running helper remain; each is short.
    for (int spins = 0; job->done.load(std::memory_order_acquire) < job->chunks; ++spins) {
      if (spins < 64) continue;
      std::this_thread::yield();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (job_ == job) job_.reset();
  }

 private:
  void ensure_helpers(int wanted) {
    std::lock_guard<std::mutex> lock(mutex_);
    while (static_cast<int>(helpers_.size()) < wanted) {
      helpers_.emplace_back([this] { helper_loop(); });
      helpers_.back().detach();  // lives for the process; sleeps when idle
    }
  }

  void helper_loop() {
    uint64_t seen = 0;
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        job = job_;
      }
      if (!job) continue;
      if (job->helpers_joined.fetch_add(1, std::memory_order_relaxed) >= job->helpers_wanted) continue;
      job->work();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::shared_ptr<Job> job_;
  uint64_t generation_ = 0;
  std::vector<std::thread> helpers_;
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: helpers are detached and may outlive statics
  return *p;
}

}  // namespace

namespace detail {

bool run_serially(int64_t n, int64_t grain) {
  return n <= grain || t_in_chunk || omp_in_parallel() || omp_get_max_threads() <= 1;
}

void run_chunks(int64_t n, int64_t grain, ChunkFn fn, void* ctx) {
  auto job = std::make_shared<Job>();
  job->fn = fn;
  job->ctx = ctx;
  job->n = n;
  job->grain = grain;
  job->chunks = (n + grain - 1) / grain;
  const int64_t threads = omp_get_max_threads();
  job->helpers_wanted = static_cast<int>((job->chunks < threads ? job->chunks : threads) - 1);
  if (job->helpers_wanted <= 0) {
    job->work();
    return;
  }
  pool().run(job);
}

}  // namespace detail
}  // namespace cg::kernels::cpu
