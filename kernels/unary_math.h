#pragma once
// Forward value and derivative of every elementwise unary op, written once for CPU and CUDA.
#include <cmath>

#include "kernels/hostdevice.h"
#include "kernels/kernel_types.h"

namespace cg::kernels {

// log|Gamma(x)|. On the host lgamma_r, because plain lgamma writes the global `signgam` and
// the CPU kernels run under OpenMP.
template <class T> CG_HD T log_gamma(T x) {
#ifdef __CUDA_ARCH__
  return lgamma(x);
#else
  int sign;
  return static_cast<T>(::lgamma_r(static_cast<double>(x), &sign));
#endif
}

// digamma(x) = d/dx log Gamma(x): the recurrence psi(x) = psi(x + 1) - 1/x lifts x to >= 10,
// where the asymptotic series ln x - 1/(2x) - sum B_2k / (2k x^2k), k <= 7, is off by < 5e-17
// (from 6, as often done, it is off by ~1e-11, visible in double gradient checks); negative
// non-integers use the reflection psi(x) = psi(1 - x) - pi / tan(pi x); poles give NaN.
template <class T> CG_HD T digamma(T x) {
  const T pi = T(3.14159265358979323846);
  T result = T(0);
  if (x <= T(0)) {
    if (x == floor(x)) return T(NAN);
    result = -pi / tan(pi * x);
    x = T(1) - x;
  }
  while (x < T(10)) {
    result -= T(1) / x;
    x += T(1);
  }
  const T inv = T(1) / x, inv2 = inv * inv;
  T series = T(1) / T(12);  // Horner over the terms B_2k / (2k) with alternating signs
  series = T(691) / T(32760) - inv2 * series;
  series = T(1) / T(132) - inv2 * series;
  series = T(1) / T(240) - inv2 * series;
  series = T(1) / T(252) - inv2 * series;
  series = T(1) / T(120) - inv2 * series;
  series = inv2 * (T(1) / T(12) - inv2 * series);
  return result + log(x) - T(0.5) * inv - series;
}

template <class T> CG_HD T unary_value(UnaryOp op, T x, T a, T b) {
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
    case UnaryOp::Lgamma: return log_gamma(x);
    case UnaryOp::Affine: return a * x + b;
  }
  return x;
}

// d y / d x, given the input x and the forward output y (some derivatives are cheaper from y).
template <class T> CG_HD T unary_derivative(UnaryOp op, T x, T y, T a, T b) {
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
    case UnaryOp::Lgamma: return digamma(x);
    case UnaryOp::Affine: return a;
  }
  return T(0);
}

template <class T> CG_HD T binary_value(BinaryOp op, T a, T b) {
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
