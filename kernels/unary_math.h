#pragma once
// Forward value and derivative of every elementwise unary op, written once for CPU and CUDA.
#include <cmath>
#include "kernels/hostdevice.h"
#include "kernels/kernel_types.h"

namespace cg::kernels {

template <class T>
CG_HD T unary_value(UnaryOp op, T x, T a, T b) {
  switch (op) {
    case UnaryOp::Relu: return x > T(0) ? x : T(0);
    case UnaryOp::LeakyRelu: return x > T(0) ? x : a * x;
    case UnaryOp::Elu: return x > T(0) ? x : a * (exp(x) - T(1));
    case UnaryOp::Sigmoid: return x >= T(0) ? T(1) / (T(1) + exp(-x)) : exp(x) / (T(1) + exp(x));
    case UnaryOp::Tanh: return tanh(x);
    // log1p(exp(x)) without overflow for large x.
    case UnaryOp::Softplus: return x > T(0) ? x + log1p(exp(-x)) : log1p(exp(x));
    case UnaryOp::Exp: return exp(x);
    case UnaryOp::Log: return log(x);
    case UnaryOp::Square: return x * x;
    case UnaryOp::Sqrt: return sqrt(x);
    case UnaryOp::Pow: return pow(x, a);
    case UnaryOp::Abs: return x < T(0) ? -x : x;
    case UnaryOp::Clamp: return x < a ? a : (x > b ? b : x);
    case UnaryOp::Neg: return -x;
    case UnaryOp::Affine: return a * x + b;
  }
  return x;
}

// d y / d x, given the input x and the forward output y (some derivatives are cheaper from y).
template <class T>
CG_HD T unary_derivative(UnaryOp op, T x, T y, T a, T b) {
  switch (op) {
    case UnaryOp::Relu: return x > T(0) ? T(1) : T(0);
    case UnaryOp::LeakyRelu: return x > T(0) ? T(1) : a;
    case UnaryOp::Elu: return x > T(0) ? T(1) : y + a;
    case UnaryOp::Sigmoid: return y * (T(1) - y);
    case UnaryOp::Tanh: return T(1) - y * y;
    case UnaryOp::Softplus: return x >= T(0) ? T(1) / (T(1) + exp(-x)) : exp(x) / (T(1) + exp(x));
    case UnaryOp::Exp: return y;
    case UnaryOp::Log: return T(1) / x;
    case UnaryOp::Square: return T(2) * x;
    case UnaryOp::Sqrt: return T(0.5) / y;
    case UnaryOp::Pow: return a * pow(x, a - T(1));
    case UnaryOp::Abs: return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
    case UnaryOp::Clamp: return (x >= a && x <= b) ? T(1) : T(0);
    case UnaryOp::Neg: return T(-1);
    case UnaryOp::Affine: return a;
  }
  return T(0);
}

template <class T>
CG_HD T binary_value(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
  }
  return a;
}

CG_HD long long bcast_index(Bcast mode, long long r, long long c, long long cols) {
  switch (mode) {
    case Bcast::Full: return r * cols + c;
    case Bcast::Scalar: return 0;
    case Bcast::Row: return c;
    case Bcast::Col: return r;
  }
  return 0;
}

}  // namespace cg::kernels
