#pragma once
// Validation shared by the layers that take a fixed gene-set mask (MaskedLinear,
// PathwayAttention): right shape, only 0 and 1.
#include <string>

#include "autograd/tensor.h"

namespace cg::nn {

// Returns a float32 CPU copy of `mask` after checking that it has `expected` shape (layout
// described by `layout`, e.g. "[out, in]") and holds only 0 and 1. Errors name `layer` and
// both shapes, or the first offending entry.
Tensor checked_binary_mask(const std::string& layer, const Tensor& mask, const Shape& expected, const char* layout);

}  // namespace cg::nn
