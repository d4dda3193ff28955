#pragma once
// CPU row gather and its adjoint, over the [rows, cols] view of a tensor whose first dimension
// is indexed. Indices are int32 and must already be validated against the row count.
#include <cstdint>

namespace cg::kernels::cpu {

// out[i, :] = x[index[i], :] for i < n_index.
template <class T> void gather_rows(const T* x, const int32_t* index, T* out, int64_t n_index, int64_t cols);
// gx[index[i], :] += g[i, :]; repeated indices accumulate. gx is not cleared first.
template <class T> void scatter_add_rows(const T* g, const int32_t* index, T* gx, int64_t n_index, int64_t cols);
// Position of the first index outside [0, limit), or -1 when all are in range.
int64_t first_out_of_range(const int32_t* index, int64_t n, int64_t limit);

}  // namespace cg::kernels::cpu
