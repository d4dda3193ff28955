#pragma once
// Every differentiable op. Each dispatches to kernels/cpu or kernels/cuda by the device of its
// inputs and records its backward on the tape. Matrix-style ops work on the 2-D view of a
// tensor (rows = product of leading dims, cols = last dim) unless they say otherwise.
//
// Broadcasting is explicit and limited: the second operand of add/sub/mul/div may be the same
// shape, a scalar (one element), a row vector ([cols] or [1, cols]) or a column vector
// ([rows, 1]); the first operand may also be the smaller one. Any other pair is an error.
#include <vector>

#include "autograd/csr_pattern.h"
#include "autograd/tensor.h"

namespace cg {

class Generator;

// ---- linear algebra (ops_matmul.cpp) ------------------------------------------------------------
// 2-D: op(a) [m, k] x op(b) [k, n].
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
// 3-D: [batch, m, k] x [batch, k, n] (with the same transpose flags applied per batch).
Tensor bmm(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

// ---- binary arithmetic with broadcasting (ops_binary.cpp) -------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add_scalar(const Tensor& a, double s);
Tensor mul_scalar(const Tensor& a, double s);
// x [.., cols] + bias [cols]: the layer bias, with the bias gradient summed over rows.
Tensor bias_add(const Tensor& x, const Tensor& bias);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator+(const Tensor& a, double s) { return add_scalar(a, s); }
inline Tensor operator-(const Tensor& a, double s) { return add_scalar(a, -s); }
inline Tensor operator*(const Tensor& a, double s) { return mul_scalar(a, s); }
inline Tensor operator*(double s, const Tensor& a) { return mul_scalar(a, s); }
inline Tensor operator/(const Tensor& a, double s) { return mul_scalar(a, 1.0 / s); }

// ---- elementwise unary (ops_unary.cpp) --------------------------------------------------------------
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double slope = 0.01);
Tensor elu(const Tensor& x, double alpha = 1.0);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor softplus(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor square(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor pow(const Tensor& x, double exponent);
Tensor abs(const Tensor& x);
Tensor clamp(const Tensor& x, double lo, double hi);
Tensor neg(const Tensor& x);
Tensor lgamma(const Tensor& x);  // log Gamma(x) for x > 0 (count likelihoods); gradient digamma(x)
inline Tensor operator-(const Tensor& x) { return neg(x); }

// ---- reductions (ops_reduce.cpp) ------------------------------------------------------------------
Tensor sum(const Tensor& x);        // -> [1]
Tensor mean(const Tensor& x);       // -> [1]
Tensor sum_rows(const Tensor& x);   // each row of the 2-D view -> [rows, 1]
Tensor mean_rows(const Tensor& x);  // -> [rows, 1]
Tensor sum_cols(const Tensor& x);   // each column -> [1, cols]
Tensor mean_cols(const Tensor& x);  // -> [1, cols]
struct MaxRows {
  Tensor values;   // [rows, 1], differentiable (gradient goes to the arg-max entry)
  Tensor indices;  // int32 [rows]
};
MaxRows max_rows(const Tensor& x);

// ---- row-wise normalisation (ops_softmax.cpp, ops_norm.cpp) -------------------------------------
Tensor softmax_rows(const Tensor& x);
Tensor log_softmax_rows(const Tensor& x);
// Row-wise layer norm over the last dim; gamma/beta [cols] may be undefined (no affine part).
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps = 1e-5);
// Batch norm over the rows of a [N, C] input. Training: batch statistics (biased variance for
// normalising) and running_mean/var updated in place with the unbiased variance, PyTorch style:
// running = (1 - momentum) * running + momentum * batch. Eval: running statistics.
// gamma/beta [C] may be undefined; running_mean/var [C] may be undefined in training mode.
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum = 0.1, double eps = 1e-5);
// x / max(||x_row||_2, eps).
Tensor l2_normalize_rows(const Tensor& x, double eps = 1e-12);

// ---- shape and data movement (ops_shape.cpp, ops_index.cpp) ------------------------------------------
// axis 0 stacks along rows, axis 1 along columns (2-D inputs).
Tensor concat(const std::vector<Tensor>& parts, int axis);
// Rows or columns [start, end) of a 2-D tensor.
Tensor slice(const Tensor& x, int axis, int64_t start, int64_t end);
// out[i] = x[index[i]] for an int32 index of any length; backward scatter-adds.
Tensor gather_rows(const Tensor& x, const Tensor& index);
Tensor transpose(const Tensor& x);  // 2-D
Tensor reshape(const Tensor& x, const Shape& shape);

// ---- masking and randomness (ops_mask.cpp) -----------------------------------------------------------------
// Dropout with a Philox mask; scales kept values by 1/(1-p). Identity when !training or p == 0.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);
// Entries where mask != 0 become value (gradient 0 there). mask: same shape as x, or a row or
// column vector broadcast as in add(); float tensor of 0/1.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
// cond != 0 ? a : b elementwise; cond is a float 0/1 tensor of the same shape.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// ---- sparse masked attention (ops_csr_attention.cpp) ---------------------------------------------
// CsrPattern and CsrMatrix: autograd/csr_pattern.h.
// Masked multi-head attention of pattern.rows queries over pattern.cols tokens whose keys and
// values are x[n, g] times per-token rows, computed only at the pattern's entries (see
// kernels/cpu/csr_attention.h for the formulas):
//   x [N, G]; qk [nnz, H] (scaled query-key dots per entry and head); values [G, H * dh];
//   bias [nnz] added to every head's score (undefined: none).
// Returns [N, P, H * dh]; memory kept for backward: [N, P, H] log-normalisers besides the
// inputs and output. attention (optional): the weights [N, H, nnz], not differentiable.
// Differentiable w.r.t. x, qk, values and bias.
Tensor csr_attention(const Tensor& x, const Tensor& qk, const Tensor& values, const Tensor& bias,
                     const CsrPattern& pattern, Tensor* attention = nullptr);

// ---- sparse times dense (ops_csr_matmul.cpp) -----------------------------------------------------
// a [rows, cols] (CSR) times b [cols, m] -> [rows, m], on a's and b's device (the same one; b's
// dtype is a.values' dtype). Differentiable w.r.t. b (grad = a^T grad_out); a is data (an
// expression batch), its values get no gradient. See kernels/cpu/csr_matmul.h.
Tensor csr_matmul(const CsrMatrix& a, const Tensor& b);

}  // namespace cg
