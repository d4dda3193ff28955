#include "apps/common/perturbation_models.h"

#include "autograd/engine.h"
#include "autograd/ops.h"

namespace cg::perturb {
namespace {

// Soft control/perturbed labels for the adversary: condition column 0 is "control".
Tensor soft_perturbed_labels(const Tensor& condition, bool flipped) {
  Tensor is_control = slice(condition, 1, 0, 1);  // [N, 1]
  // perturbed -> 0.9, control -> 0.1 (flipped: the reverse, what the encoder aims for)
  Tensor target = add_scalar(mul_scalar(is_control, -0.8), 0.9);
  return flipped ? add_scalar(mul_scalar(target, -1.0), 1.0) : target;
}

// Mean binary cross-entropy on logits, in the stable form softplus(x) - x t.
Tensor bce_logits(const Tensor& logits, const Tensor& target) { return mean(softplus(logits) - logits * target); }

}  // namespace

// ---- scGen -------------------------------------------------------------------------------------
ScGenVAE::ScGenVAE(int64_t genes, int64_t latent, double dropout, double alpha, uint64_t seed)
    : PerturbModel("ScGenVAE"), gen_(std::make_shared<Generator>(seed, 1)), alpha_(alpha) {
  Generator init(seed, 2);
  nn::MLPConfig block;
  block.activation = nn::Activation::LeakyReLU;
  block.leaky_slope = 0.2;
  block.batch_norm = true;
  block.dropout = dropout;
  block.dropout_after_activation = true;
  block.init = nn::Init::XavierUniform;
  nn::MLPConfig enc = block;
  enc.widths = {genes, 800, 800};
  encoder_ = register_module("encoder", std::make_shared<nn::GaussianEncoder>(enc, latent, init, gen_));
  nn::MLPConfig dec = block;
  dec.widths = {latent, 800, 800, genes};
  decoder_ = register_module("decoder", nn::make_mlp(dec, init, gen_));
}

LossTerms ScGenVAE::losses(const Tensor& x, const Tensor&) {
  const auto e = encoder_->forward(x);
  const Tensor x_hat = decoder_->forward(e.z);
  const double n = static_cast<double>(x.dim(0));
  const Tensor rec = sum(square(x_hat - x)) * (0.5 / n);
  const Tensor kl =
      sum(exp(e.logvar) + square(e.mu) - e.logvar - 1.0) * (0.5 / n);  // KL summed over latents, mean over cells
  const Tensor total = rec + kl * (0.5 * alpha_);
  return {{"loss", total}, {"reconstruction", rec}, {"kl", kl}};
}

Tensor ScGenVAE::encode_mean(const Tensor& x) { return encoder_->forward(x).mu; }
Tensor ScGenVAE::decode(const Tensor& z) { return decoder_->forward(z); }

// ---- MTAe --------------------------------------------------------------------------------------
MultiTaskAE::MultiTaskAE(int64_t genes, int64_t conditions, double dropout, bool adversarial, uint64_t seed, double lr)
    : PerturbModel("MultiTaskAE"), gen_(std::make_shared<Generator>(seed, 1)), adversarial_(adversarial) {
  Generator init(seed, 2);
  nn::MLPConfig enc;
  enc.widths = {genes, 256, 128};
  enc.activation = nn::Activation::LeakyReLU;
  enc.batch_norm = true;
  enc.input_dropout = dropout;
  enc.init = nn::Init::XavierUniform;
  encoder_ = register_module("encoder", nn::make_mlp(enc, init, gen_));
  dec_in_ = register_module("decoder_in", std::make_shared<nn::Linear>(128, 256, init, nn::Init::XavierUniform));
  dec_bn_ = register_module("decoder_bn", std::make_shared<nn::BatchNorm1d>(256));
  film_ = register_module("film", std::make_shared<nn::FiLM>(conditions, 256, init));
  dec_out_ = register_module("decoder_out", std::make_shared<nn::Linear>(256, genes, init, nn::Init::XavierUniform));
  if (adversarial_) {
    nn::MLPConfig disc;
    disc.widths = {128, 64, 1};
    disc.activation = nn::Activation::LeakyReLU;
    discriminator_ = register_module("discriminator", nn::make_mlp(disc, init, gen_));
    AdamOptions o;
    o.lr = lr;
    disc_optimizer_ = std::make_unique<Adam>(discriminator_->parameters(), o);
  }
}

Tensor MultiTaskAE::encode(const Tensor& x) { return encoder_->forward(x); }

Tensor MultiTaskAE::decode(const Tensor& z, const Tensor& condition) {
  Tensor h = film_->forward(dec_bn_->forward(dec_in_->forward(z)), condition);
  return dec_out_->forward(leaky_relu(h, 0.2));
}

Tensor MultiTaskAE::discriminator_logits(const Tensor& z) { return discriminator_->forward(z); }

LossTerms MultiTaskAE::losses(const Tensor& x, const Tensor& condition) {
  const Tensor z = encode(x);
  const Tensor rec = mean(square(decode(z, condition) - x));
  if (!adversarial_) return {{"loss", rec}, {"reconstruction", rec}};
  const Tensor fool = bce_logits(discriminator_logits(z), soft_perturbed_labels(condition, true));
  return {{"loss", rec * 0.9 + fool * 0.1}, {"reconstruction", rec}, {"adversarial", fool}};
}

LossTerms MultiTaskAE::adversary_step(const Tensor& x, const Tensor& condition) {
  if (!adversarial_) return {};
  Tensor z;
  {
    NoGradGuard no_grad;
    z = encode(x);
  }
  disc_optimizer_->zero_grad();
  const Tensor d_loss = bce_logits(discriminator_logits(z), soft_perturbed_labels(condition, false));
  d_loss.backward();
  disc_optimizer_->step();
  return {{"discriminator", d_loss.detach()}};
}

std::vector<Tensor> MultiTaskAE::main_parameters() const {
  std::vector<Tensor> out;
  for (const auto& [name, t] : named_parameters())
    if (t.requires_grad() && name.rfind("discriminator.", 0) != 0) out.push_back(t);
  return out;
}

}  // namespace cg::perturb
