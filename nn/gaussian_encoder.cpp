#include "nn/gaussian_encoder.h"

#include "autograd/error.h"
#include "autograd/ops.h"

namespace cg::nn {

GaussianEncoder::GaussianEncoder(const MLPConfig& body, int64_t latent, Generator& init_gen,
                                 std::shared_ptr<Generator> noise_gen)
    : Module("GaussianEncoder"), noise_gen_(std::move(noise_gen)), latent_(latent) {
  CG_CHECK(latent > 0, "GaussianEncoder: latent size must be positive, found " << latent);
  CG_CHECK(noise_gen_ != nullptr, "GaussianEncoder: needs a generator for the reparameterisation noise");
  MLPConfig c = body;
  c.plain_output = false;  // every body layer is a full hidden block; the heads are the outputs
  c.output_activation = c.activation;
  body_ = register_module("body", make_mlp(c, init_gen, noise_gen_));
  const int64_t hidden = c.widths.back();
  mu_head_ = register_module("mu", std::make_shared<Linear>(hidden, latent, init_gen, c.init));
  logvar_head_ = register_module("logvar", std::make_shared<Linear>(hidden, latent, init_gen, c.init));
}

GaussianEncoder::Output GaussianEncoder::forward(const Tensor& x) {
  Tensor h = body_->forward(x);
  Output out;
  out.mu = mu_head_->forward(h);
  out.logvar = logvar_head_->forward(h);
  if (is_training()) {
    Tensor eps = noise_gen_->normal(out.mu.shape(), out.mu.device(), out.mu.dtype());
    out.z = out.mu + eps * exp(out.logvar * 0.5);
  } else {
    out.z = out.mu;
  }
  return out;
}

}  // namespace cg::nn
