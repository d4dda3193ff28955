#pragma once
// CUDA row gather and scatter-add (float32); same semantics as kernels/cpu/index.h.
#include <cstdint>

namespace cg::kernels::cuda {

void gather_rows(const float* x, const int32_t* index, float* out, int64_t n_index, int64_t cols);
// gx[index[i], :] += g[i, :]: repeated indices accumulate. With atomicAdd (in no fixed order), or,
// deterministic, each destination row summing its sources in increasing i: the CPU's order, so
// the result equals the CPU's bit for bit (slower: the index is read back and sorted on the host).
void scatter_add_rows(const float* g, const int32_t* index, float* gx, int64_t n_index, int64_t cols,
                      bool deterministic = false);
// Position of the first index outside [0, limit), or -1 (device index, synchronous result).
int64_t first_out_of_range(const int32_t* index, int64_t n, int64_t limit);

}  // namespace cg::kernels::cuda
