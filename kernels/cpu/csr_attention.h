#pragma once
// CPU kernels of the sparse masked attention (autograd op csr_attention), float and double.
// Pathway queries attend over only the genes linked to them by a fixed CSR pattern; gene tokens
// are x[n, g] * E_g, so keys and values are x[n, g] times per-gene rows and never exist per cell.
//
// For cell n, head h, pathway p and each of its entries e (gene g = col_index[e]):
//   s      = x[n, g] * qk[e, h] + bias[e]            (bias optional: the soft mask's log gate)
//   lse    = log sum_{e in row p} exp(s)             saved for backward, [N, P, H]
//   a_e    = exp(s - lse)
//   out[n, p, h*dh + j] = sum_e a_e x[n, g] values[g, h*dh + j]
// qk[e, h] is the (already scaled) head-h dot product of pathway p's query with gene g's key
// row, values [G, H*dh] the per-gene value rows. An empty pathway gives zero output.
//
// Backward recomputes a_e from lse (nothing of size N x H x nnz is kept), in four passes that
// the CUDA kernels follow one for one, each output written by one loop iteration (no atomics,
// so results are the same bits for any thread count):
//   1 (n, p):  D[n, p, h] = <dO, out>_h;  for each entry, with v = <dO_h, values[g]_h>,
//              ds = a (x v - D), t[n, e] = sum_h a v + ds qk[e, h]
//   2 (n, g):  dx[n, g] = sum over g's entries of t[n, e]
//   3 (e):     dqk[e, h] = sum_n ds x;  dbias[e] = sum_{n, h} ds
//   4 (g, h):  dvalues[g, h*dh + j] = sum_n x[n, g] sum over g's entries of a dO[n, p, h*dh + j]
// Row sums (the softmax denominator, dot products, sums over cells) accumulate in double.
#include <cstdint>

#include "kernels/csr_attention_types.h"

namespace cg::kernels::cpu {

// attention (nullable): a as [N, H, nnz]. bias may be null.
template <class T>
void csr_attention_forward(const T* x, const T* qk, const T* values, const T* bias, const CsrAttentionIndex& idx,
                           const CsrAttentionSizes& s, T* out, T* lse, T* attention);

// Scratch: dots [N, P, H] (D above) and per_entry [N, nnz] (t above). Each gradient pointer may
// be null (not wanted); those given are overwritten.
template <class T>
void csr_attention_backward(const T* grad_out, const T* out, const T* lse, const T* x, const T* qk, const T* values,
                            const T* bias, const CsrAttentionIndex& idx, const CsrAttentionSizes& s, T* dots,
                            T* per_entry, T* grad_x, T* grad_qk, T* grad_bias, T* grad_values);

}  // namespace cg::kernels::cpu
