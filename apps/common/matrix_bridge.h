#pragma once
// Conversions between the data layer's matrices (omics, Eigen) and engine tensors.
#include <vector>

#include "autograd/tensor.h"
#include "omics/matrix.h"

namespace cg::apps {

Tensor to_tensor(const omics::DenseMatrix& m, Device device = Device::CPU);
omics::DenseMatrix to_matrix(const Tensor& t);  // any device; 2-D
omics::DenseMatrix take_rows(const omics::DenseMatrix& m, const std::vector<int64_t>& rows);

}  // namespace cg::apps
