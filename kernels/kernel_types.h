#pragma once
// Enumerations shared by the CPU and CUDA kernel families and by autograd's dispatch.
#include <cstdint>

namespace cg::kernels {

enum class UnaryOp : uint8_t {
  Relu,
  LeakyRelu,
  Elu,
  Sigmoid,
  Tanh,
  Softplus,
  Exp,
  Log,
  Square,
  Sqrt,
  Pow,
  Abs,
  Clamp,
  Neg,
  Lgamma,  // log Gamma(x); derivative digamma (count likelihoods)
  Affine   // a * x + b: scalar add and scalar multiply
};
// Per-op scalar parameters: slope (leaky_relu), alpha (elu), exponent (pow), lo/hi (clamp),
// scale/shift (affine).
struct UnaryParams {
  double a = 0, b = 0;
};

enum class BinaryOp : uint8_t { Add, Sub, Mul, Div };

// How a binary operand maps onto a (rows x cols) output: the whole matrix, one value, one
// row repeated down the rows, or one column repeated across the columns.
enum class Bcast : uint8_t { Full, Scalar, Row, Col };

// Reductions over a (rows x cols) view: everything, each row (-> rows values), each column.
enum class ReduceAxis : uint8_t { All, Rows, Cols };

}  // namespace cg::kernels
