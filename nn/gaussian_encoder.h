#pragma once
// VAE encoder: h = body(x); mu = W_mu h; logvar = W_v h; z = mu + eps * exp(logvar / 2) while
// training (eps from the engine's Philox generator), z = mu (the posterior mean) in eval mode.
#include <memory>

#include "nn/mlp.h"

namespace cg::nn {

class GaussianEncoder : public Module {
 public:
  struct Output {
    Tensor z, mu, logvar;
  };
  // body.widths = input, hidden...; the last hidden width feeds the two heads.
  GaussianEncoder(const MLPConfig& body, int64_t latent, Generator& init_gen, std::shared_ptr<Generator> noise_gen);
  Output forward(const Tensor& x);
  int64_t latent_dim() const { return latent_; }

 private:
  std::shared_ptr<Sequential> body_;
  std::shared_ptr<Linear> mu_head_, logvar_head_;
  std::shared_ptr<Generator> noise_gen_;
  int64_t latent_;
};

}  // namespace cg::nn
