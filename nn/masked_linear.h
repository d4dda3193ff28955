#pragma once
// MaskedLinear (NetActivity): y = x (W * M)^T + b with a fixed binary mask M, so output unit s
// (a gene set) only sees the inputs (genes) that belong to it.
//
// Layout follows Linear: W and M are [out, in] = [sets, genes]. the pathway-model papers write the mask
// gene-by-set (G x S); a GMT-derived gene x set matrix must be transposed before it is passed.
//
// Why masked weights stay exactly zero: they are zeroed at construction, and since the forward
// uses W * M the gradient reaching W is dL/d(W*M) * M, exactly 0 where M = 0. SGD, Adam and
// AdamW (L2 or decoupled decay of a zero weight) then never move them.
#include "nn/layers.h"

namespace cg::nn {

class MaskedLinear : public Layer {
 public:
  // mask: [out, in] of 0/1 (any float dtype, any device; stored as a float32 CPU buffer that
  // follows Module::to). A mask of another shape or with other values throws, naming the layer.
  MaskedLinear(int64_t in, int64_t out, const Tensor& mask, Generator& gen, Init init = Init::TorchDefault,
               bool bias = true);
  Tensor forward(const Tensor& x) override;  // [N, in] -> [N, out]
  // W * M, the weight the forward actually uses.
  Tensor effective_weight() const;
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  Tensor weight, bias, mask;

 private:
  std::string name() const;
  int64_t in_, out_;
};

}  // namespace cg::nn
