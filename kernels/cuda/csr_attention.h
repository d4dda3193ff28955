#pragma once
// CUDA kernels of the sparse masked attention (float32); same maths, passes and argument
// meanings as kernels/cpu/csr_attention.h. Every output element is written by one thread (no
// atomics), so results do not depend on scheduling.
#include <cstdint>

#include "kernels/csr_attention_types.h"

namespace cg::kernels::cuda {

void csr_attention_forward(const float* x, const float* qk, const float* values, const float* bias,
                           const CsrAttentionIndex& idx, const CsrAttentionSizes& s, float* out, float* lse,
                           float* attention);
void csr_attention_backward(const float* grad_out, const float* out, const float* lse, const float* x,
                            const float* qk, const float* values, const float* bias, const CsrAttentionIndex& idx,
                            const CsrAttentionSizes& s, float* dots, float* per_entry, float* grad_x, float* grad_qk,
                            float* grad_bias, float* grad_values);

}  // namespace cg::kernels::cuda
