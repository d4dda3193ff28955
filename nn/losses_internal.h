#pragma once
// Shared by the losses_*.cpp files: input checks whose messages name the loss, reductions, and
// host-built constants (one-hot and sampling masks) placed on the inputs' device and dtype.
#include <cstdint>
#include <utility>
#include <vector>

#include "nn/losses.h"

namespace cg::nn::detail {

// A defined floating-point tensor that the engine can compute with on its device.
void check_float_input(const char* loss, const char* what, const Tensor& t);
// Both float inputs, on the same device with the same dtype.
void check_compatible(const char* loss, const char* a_name, const Tensor& a, const char* b_name, const Tensor& b);
void check_same_shape(const char* loss, const char* a_name, const Tensor& a, const char* b_name, const Tensor& b);
void check_rank(const char* loss, const char* what, const Tensor& t, int rank);
void check_nonempty(const char* loss, const char* what, const Tensor& t);

// Elementwise values -> the requested reduction (None keeps the shape).
Tensor reduce_elements(const Tensor& values, Reduction reduction);
// Per-sample values [N, 1] -> mean or sum over samples, or [N] for None.
Tensor reduce_samples(const Tensor& per_sample, Reduction reduction);

// (min, max) of all values, computed on the tensor's device; only two numbers come back.
std::pair<double, double> value_range(const Tensor& t);

// int32 labels [n] on the host, each checked to lie in [0, num_classes) (num_classes < 0: any >= 0).
std::vector<int32_t> host_labels(const char* loss, const Tensor& labels, int64_t n, int64_t num_classes);

// A constant (no gradient) tensor with `like`'s dtype and device.
Tensor constant_like(const std::vector<double>& values, const Shape& shape, const Tensor& like);

}  // namespace cg::nn::detail
