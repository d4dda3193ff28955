#pragma once
// cuBLAS GEMM for row-major float matrices; same contract as kernels/cpu/gemm.h.
#include <cstdint>

namespace cg::kernels::cuda {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, const float* b,
          float beta, float* c);
void gemm_batched(bool trans_a, bool trans_b, int64_t batch, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, const float* b, float beta, float* c);

}  // namespace cg::kernels::cuda
