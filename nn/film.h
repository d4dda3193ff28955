#pragma once
// FiLM conditioning (Perez et al. 2018): h' = gamma(c) * h + beta(c), with gamma and beta small
// linear heads of the condition vector c (one-hot condition / dose). The heads start at
// gamma = 1, beta = 0 (zero weights, gamma bias 1), so an untrained FiLM is the identity and
// the condition's effect is learned from there.
#include <memory>

#include "nn/layers.h"

namespace cg::nn {

class FiLM : public Module {
 public:
  FiLM(int64_t condition_dim, int64_t features, Generator& gen);
  Tensor forward(const Tensor& h, const Tensor& condition);
  std::shared_ptr<Linear> gamma, beta;

 private:
  int64_t condition_dim_, features_;
};

}  // namespace cg::nn
