#pragma once
// FiLM conditioning (Perez et al. 2018): h' = gamma(c) * h + beta(c), with gamma and beta small
// linear heads of the condition vector c (one-hot condition / dose). The heads start at
// gamma = 1, beta = 0 (zero weights, gamma bias 1), so an untrained FiLM is the identity and
// the condition's effect is learned from there. A head activation (the perturbation thesis ends
// each head in LeakyReLU) keeps that start, since it is the identity at gamma = 1 and beta = 0.
#include <memory>

#include "nn/layers.h"

namespace cg::nn {

class FiLM : public Module {
 public:
  FiLM(int64_t condition_dim, int64_t features, Generator& gen, Activation head_activation = Activation::None,
       double leaky_slope = 0.2);
  Tensor forward(const Tensor& h, const Tensor& condition);
  std::shared_ptr<Linear> gamma, beta;

 private:
  int64_t condition_dim_, features_;
  Activation head_activation_;
  double slope_;
};

}  // namespace cg::nn
