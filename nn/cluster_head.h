#pragma once
// ClusterHead (UnitedNet): logits = h W_n^T, no bias, where W_n is W with every row scaled to
// unit L2 norm in the forward pass. A logit is then |h| cos(h, w_k): only the direction of each
// class prototype matters, so no class can win by growing its weight norm.
#include "nn/layers.h"

namespace cg::nn {

class ClusterHead : public Layer {
 public:
  ClusterHead(int64_t in, int64_t clusters, Generator& gen, Init init = Init::TorchDefault);
  Tensor forward(const Tensor& h) override;  // [N, in] -> [N, clusters]
  int64_t in_features() const { return in_; }
  int64_t clusters() const { return clusters_; }
  Tensor weight;  // [clusters, in], unnormalised (the optimizer updates this one)

 private:
  int64_t in_, clusters_;
};

}  // namespace cg::nn
