#pragma once
// Minibatches of a matrix's rows as tensors on the training device. On the CPU a batch is the
// rows copied out of the matrix. On a GPU the whole matrix is uploaded once and each batch is
// gathered there (gather_rows): only the int32 row index crosses the bus per step, instead of
// batch x columns floats, which on an H200 was most of a batch-4096 scGen step. If the matrix
// does not fit beside the model, batches are gathered on the host and uploaded, as before.
#include <vector>

#include "autograd/tensor.h"
#include "omics/matrix.h"

namespace cg::apps {

class RowFeeder {
 public:
  // keep_on_device false: always gather on the host and upload (bench_scgen --feed host).
  RowFeeder(const omics::DenseMatrix& m, Device device, bool keep_on_device = true);
  Tensor rows(const std::vector<int64_t>& rows) const;
  bool resident() const { return resident_.defined(); }

 private:
  const omics::DenseMatrix& m_;
  Device device_;
  Tensor resident_;  // the matrix on the device, when it is not the CPU and the copy fit
};

}  // namespace cg::apps
