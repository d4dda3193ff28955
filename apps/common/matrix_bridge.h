#pragma once
// Conversions between the data layer's matrices (omics, Eigen) and engine tensors.
#include <functional>
#include <vector>

#include "autograd/tensor.h"
#include "omics/matrix.h"

namespace cg::apps {

Tensor to_tensor(const omics::DenseMatrix& m, Device device = Device::CPU);
omics::DenseMatrix to_matrix(const Tensor& t);  // any device; 2-D
omics::DenseMatrix take_rows(const omics::DenseMatrix& m, const std::vector<int64_t>& rows);

// Runs f over the rows of X in chunks, without a tape, and stacks the outputs (cells x out).
omics::DenseMatrix map_rows(const omics::DenseMatrix& X, Device device, const std::function<Tensor(const Tensor&)>& f,
                            int64_t chunk = 512);

}  // namespace cg::apps
