#include "nn/cluster_head.h"

#include "autograd/error.h"
#include "autograd/ops.h"

namespace cg::nn {

ClusterHead::ClusterHead(int64_t in, int64_t clusters, Generator& gen, Init init)
    : Layer("ClusterHead"), in_(in), clusters_(clusters) {
  CG_CHECK(in > 0 && clusters > 0, "ClusterHead: widths must be positive, found in " << in << " clusters " << clusters);
  weight = register_parameter("weight", init_weight(init, in, clusters, gen));
}

Tensor ClusterHead::forward(const Tensor& h) {
  CG_CHECK(h.defined() && h.rank() == 2 && h.cols() == in_,
           "ClusterHead(" << in_ << " -> " << clusters_ << "): expected input [N, " << in_ << "], found "
                          << (h.defined() ? h.describe() : "undefined"));
  // Normalised on every call (UnitedNet renormalises before each forward pass), through the
  // op so that the gradient flows to the raw weight.
  return matmul(h, l2_normalize_rows(weight), false, true);
}

}  // namespace cg::nn
