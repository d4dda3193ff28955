#include "apps/common/matrix_bridge.h"

#include <cstring>

#include "autograd/error.h"

namespace cg::apps {

Tensor to_tensor(const omics::DenseMatrix& m, Device device) {
  Tensor t = Tensor::empty({m.rows(), m.cols()});
  std::memcpy(t.data<float>(), m.data(), sizeof(float) * m.size());
  return t.to(device);
}

omics::DenseMatrix to_matrix(const Tensor& t) {
  CG_CHECK(t.rank() == 2, "to_matrix: expected a 2-D tensor, found " << t.describe());
  Tensor host = t.device() == Device::CPU && t.dtype() == DType::F32 ? t : t.to(Device::CPU).to(DType::F32);
  omics::DenseMatrix m(t.dim(0), t.dim(1));
  std::memcpy(m.data(), host.data<float>(), sizeof(float) * m.size());
  return m;
}

omics::DenseMatrix take_rows(const omics::DenseMatrix& m, const std::vector<int64_t>& rows) {
  omics::DenseMatrix out(static_cast<int64_t>(rows.size()), m.cols());
  for (size_t i = 0; i < rows.size(); ++i) out.row(static_cast<int64_t>(i)) = m.row(rows[i]);
  return out;
}

}  // namespace cg::apps
