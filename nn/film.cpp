#include "nn/film.h"

#include "autograd/error.h"
#include "autograd/ops.h"

namespace cg::nn {

FiLM::FiLM(int64_t condition_dim, int64_t features, Generator& gen, Activation head_activation, double leaky_slope)
    : Module("FiLM"),
      condition_dim_(condition_dim),
      features_(features),
      head_activation_(head_activation),
      slope_(leaky_slope) {
  gamma = register_module("gamma", std::make_shared<Linear>(condition_dim, features, gen));
  beta = register_module("beta", std::make_shared<Linear>(condition_dim, features, gen));
  gamma->weight.fill_(0.0);
  gamma->bias.fill_(1.0);
  beta->weight.fill_(0.0);
  beta->bias.fill_(0.0);
}

Tensor FiLM::forward(const Tensor& h, const Tensor& condition) {
  CG_CHECK(h.defined() && h.rank() == 2 && h.cols() == features_,
           "FiLM: expected features [N, " << features_ << "], found " << h.describe());
  CG_CHECK(condition.defined() && condition.rank() == 2 && condition.cols() == condition_dim_ &&
               condition.rows() == h.rows(),
           "FiLM: expected a condition [" << h.rows() << ", " << condition_dim_ << "], found " << condition.describe());
  const Tensor g = apply_activation(head_activation_, gamma->forward(condition), slope_);
  const Tensor b = apply_activation(head_activation_, beta->forward(condition), slope_);
  return g * h + b;
}

}  // namespace cg::nn
