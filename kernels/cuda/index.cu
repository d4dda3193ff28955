#include <map>
#include <vector>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/index.h"
#include "kernels/cuda/runtime.h"

namespace cg::kernels::cuda {
namespace {

__global__ void gather_rows_kernel(const float* x, const int32_t* index, float* out, int64_t n_index, int64_t cols) {
  const int64_t n = n_index * cols;
  CG_GRID_STRIDE(i, n) {
    const int64_t r = i / cols, c = i % cols;
    out[i] = x[static_cast<int64_t>(index[r]) * cols + c];
  }
}

__global__ void scatter_add_rows_kernel(const float* g, const int32_t* index, float* gx, int64_t n_index,
                                        int64_t cols) {
  const int64_t n = n_index * cols;
  CG_GRID_STRIDE(i, n) {
    const int64_t r = i / cols, c = i % cols;
    atomicAdd(gx + static_cast<int64_t>(index[r]) * cols + c, g[i]);
  }
}

// Deterministic scatter: destination d (row dest[d]) sums g's rows sources[start[d] .. start[d+1])
// in that (increasing) order onto what gx holds.
__global__ void scatter_add_rows_ordered_kernel(const float* g, const int32_t* start, const int32_t* sources,
                                                const int32_t* dest, float* gx, int64_t n_dest, int64_t cols) {
  CG_GRID_STRIDE(i, n_dest * cols) {
    const int64_t d = i / cols, c = i % cols;
    float* out = gx + static_cast<int64_t>(dest[d]) * cols + c;
    float s = *out;
    for (int32_t k = start[d]; k < start[d + 1]; ++k) s += g[static_cast<int64_t>(sources[k]) * cols + c];
    *out = s;
  }
}

// Records the smallest bad position (atomicMin), so the error can name the first offender.
__global__ void range_check_kernel(const int32_t* index, int64_t n, int64_t limit, unsigned long long* first_bad) {
  CG_GRID_STRIDE(i, n)
  if (index[i] < 0 || index[i] >= limit) atomicMin(first_bad, static_cast<unsigned long long>(i));
}

}  // namespace

void gather_rows(const float* x, const int32_t* index, float* out, int64_t n_index, int64_t cols) {
  if (n_index * cols == 0) return;
  gather_rows_kernel<<<blocks_for(n_index * cols), kThreads>>>(x, index, out, n_index, cols);
  CG_CUDA_LAUNCH_CHECK();
}

void scatter_add_rows(const float* g, const int32_t* index, float* gx, int64_t n_index, int64_t cols,
                      bool deterministic) {
  if (n_index * cols == 0) return;
  if (!deterministic) {
    scatter_add_rows_kernel<<<blocks_for(n_index * cols), kThreads>>>(g, index, gx, n_index, cols);
    CG_CUDA_LAUNCH_CHECK();
    return;
  }
  // The index on the host, grouped by destination row with a stable counting sort (sources stay
  // in increasing order within a row), then [start | sources | dest] uploaded in one block.
  std::vector<int32_t> host(static_cast<size_t>(n_index));
  copy_device_to_host(host.data(), index, sizeof(int32_t) * host.size());
  std::map<int32_t, int32_t> count;  // destination row -> its number of sources, rows in order
  for (int32_t r : host) ++count[r];
  const size_t n_dest = count.size();
  std::vector<int32_t> table(n_dest + 1 + host.size() + n_dest);
  int32_t* start = table.data();
  int32_t* sources = start + n_dest + 1;
  int32_t* dest = sources + host.size();
  std::map<int32_t, int32_t> slot;  // destination row -> its position in dest
  int32_t at = 0, d = 0;
  for (const auto& [row, n] : count) {
    start[d] = at;
    dest[d] = row;
    slot[row] = d++;
    at += n;
  }
  start[n_dest] = at;
  std::vector<int32_t> fill(start, start + n_dest);
  for (int64_t i = 0; i < n_index; ++i) sources[fill[static_cast<size_t>(slot[host[static_cast<size_t>(i)]])]++] = static_cast<int32_t>(i);
  int32_t* device_table = static_cast<int32_t*>(device_scratch(sizeof(int32_t) * table.size()));
  copy_host_to_device(device_table, table.data(), sizeof(int32_t) * table.size());
  const int64_t nd = static_cast<int64_t>(n_dest);
  scatter_add_rows_ordered_kernel<<<blocks_for(nd * cols), kThreads>>>(
      g, device_table, device_table + n_dest + 1, device_table + n_dest + 1 + host.size(), gx, nd, cols);
  CG_CUDA_LAUNCH_CHECK();
}

int64_t first_out_of_range(const int32_t* index, int64_t n, int64_t limit) {
  if (n == 0) return -1;
  // One device word per thread for the whole process (gather_rows checks every call, several
  // times per forward pass): set to "none" (all ones) by a memset, not a cudaMalloc and upload.
  thread_local unsigned long long* flag =
      static_cast<unsigned long long*>(raw_malloc(sizeof(unsigned long long)));
  CG_CUDA_CHECK(cudaMemset(flag, 0xFF, sizeof(unsigned long long)));
  range_check_kernel<<<blocks_for(n), kThreads>>>(index, n, limit, flag);
  CG_CUDA_LAUNCH_CHECK();
  unsigned long long host = 0;
  copy_device_to_host(&host, flag, sizeof host);
  return host == ~0ull ? -1 : static_cast<int64_t>(host);
}

}  // namespace cg::kernels::cuda
