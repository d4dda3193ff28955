#include "apps/common/row_feeder.h"

#include "apps/common/matrix_bridge.h"
#include "autograd/ops.h"
#include "base/error.h"

namespace cg::apps {

RowFeeder::RowFeeder(const omics::DenseMatrix& m, Device device, bool keep_on_device) : m_(m), device_(device) {
  if (device == Device::CPU || m.size() == 0 || !keep_on_device) return;
  try {
    resident_ = to_tensor(m, device);
  } catch (const Error&) {
    resident_ = Tensor();  // no room on the device: feed batches from the host
  }
}

Tensor RowFeeder::rows(const std::vector<int64_t>& rows) const {
  if (!resident_.defined()) return to_tensor(take_rows(m_, rows), device_);
  Tensor index = Tensor::empty({static_cast<int64_t>(rows.size())}, DType::I32);
  int32_t* out = index.data<int32_t>();
  for (size_t i = 0; i < rows.size(); ++i) out[i] = static_cast<int32_t>(rows[i]);
  return gather_rows(resident_, index);  // a host index: checked on the host, then uploaded
}

}  // namespace cg::apps
