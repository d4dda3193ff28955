#include "apps/common/matrix_bridge.h"

#include <cstring>

#include "autograd/engine.h"
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

omics::DenseMatrix map_rows(const omics::DenseMatrix& X, Device device, const std::function<Tensor(const Tensor&)>& f,
                            int64_t chunk) {
  NoGradGuard no_grad;
  std::vector<omics::DenseMatrix> parts;
  int64_t cols = 0;
  for (int64_t s = 0; s < X.rows(); s += chunk) {
    const int64_t n = std::min(chunk, X.rows() - s);
    omics::DenseMatrix part = to_matrix(f(to_tensor(X.middleRows(s, n), device)));
    cols = part.cols();
    parts.push_back(std::move(part));
  }
  omics::DenseMatrix out(X.rows(), cols);
  int64_t r = 0;
  for (const auto& p : parts) {
    out.middleRows(r, p.rows()) = p;
    r += p.rows();
  }
  return out;
}

}  // namespace cg::apps
