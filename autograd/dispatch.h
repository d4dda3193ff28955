#pragma once
// Helpers shared by op implementations: argument checks that produce clear messages, and the
// dtype dispatch from a runtime DType to a C++ element type on the CPU.
#include "autograd/error.h"
#include "autograd/tensor.h"

namespace cg::detail {

inline void check_defined(const char* op, const Tensor& t, const char* which = "input") {
  CG_CHECK(t.defined(), "op '" << op << "': " << which << " is an undefined tensor");
}

inline void check_float(const char* op, const Tensor& t) {
  check_defined(op, t);
  CG_CHECK(t.dtype() != DType::I32, "op '" << op << "': expected a floating-point tensor, found " << t.describe());
  CG_CHECK(!(t.dtype() == DType::F64 && t.device() == Device::CUDA),
           "op '" << op << "': float64 is supported on the cpu only, found " << t.describe());
}

inline void check_same(const char* op, const Tensor& a, const Tensor& b) {
  check_float(op, a);
  check_float(op, b);
  CG_CHECK(a.device() == b.device(),
           "op '" << op << "': inputs are on different devices: " << a.describe() << " and " << b.describe());
  CG_CHECK(a.dtype() == b.dtype(),
           "op '" << op << "': inputs have different dtypes: " << a.describe() << " and " << b.describe());
}

inline void check_same_shape(const char* op, const Tensor& a, const Tensor& b) {
  check_same(op, a, b);
  CG_CHECK(a.shape() == b.shape(), "op '" << op << "': expected equal shapes, found " << shape_str(a.shape()) << " and "
                                          << shape_str(b.shape()));
}

inline void check_rank(const char* op, const Tensor& t, int rank) {
  CG_CHECK(t.rank() == rank, "op '" << op << "': expected a rank-" << rank << " tensor, found " << t.describe());
}

}  // namespace cg::detail

// CG_DISPATCH_FLOAT(t.dtype(), "relu", T, { kernel<T>(...); }) runs the body with T = float or double.
#define CG_DISPATCH_FLOAT(dtype, op, T, ...)                                                         \
  do {                                                                                               \
    switch (dtype) {                                                                                 \
      case ::cg::DType::F32: {                                                                       \
        using T = float;                                                                             \
        __VA_ARGS__;                                                                                 \
        break;                                                                                       \
      }                                                                                              \
      case ::cg::DType::F64: {                                                                       \
        using T = double;                                                                            \
        __VA_ARGS__;                                                                                 \
        break;                                                                                       \
      }                                                                                              \
      default: throw ::cg::Error(std::string("op '") + (op) + "': int32 tensors are not supported"); \
    }                                                                                                \
  } while (0)

#ifdef CELLGRAD_CUDA
#define CG_IF_CUDA(...) __VA_ARGS__
#else
#define CG_IF_CUDA(...) throw ::cg::Error("this build of cellgrad has no CUDA support")
#endif
