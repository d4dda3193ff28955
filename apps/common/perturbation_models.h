#pragma once
// The trainable perturbation models. Each turns a batch (cells x genes, plus each cell's
// one-hot condition) into named loss terms; the first term, "loss", is what backward uses.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/optim.h"
#include "nn/film.h"
#include "nn/gaussian_encoder.h"
#include "nn/mlp.h"

namespace cg::perturb {

using LossTerms = std::vector<std::pair<std::string, Tensor>>;

class PerturbModel : public nn::Module {
 public:
  using nn::Module::Module;
  virtual LossTerms losses(const Tensor& x, const Tensor& condition) = 0;
  // Models with an adversary update it here, with its own optimizer and its own backward,
  // before the main step (MTAe --adversarial). Returns its loss terms for logging.
  virtual LossTerms adversary_step(const Tensor& x, const Tensor& condition) { return {}; }
  // Parameters updated by the main optimizer (the adversary's are left out).
  virtual std::vector<Tensor> main_parameters() const { return parameters(); }
  // What a resumable fit must save besides parameters and buffers: the model's own noise
  // generators (dropout, sampling) and an adversary's optimizer.
  virtual std::vector<std::pair<std::string, Generator*>> generators() { return {}; }
  virtual std::vector<std::pair<std::string, Optimizer*>> internal_optimizers() { return {}; }
};

// scGen: VAE G -> 800 -> 800 -> (mu, logvar) 100, decoder 100 -> 800 -> 800 -> G; blocks
// Linear, BatchNorm, LeakyReLU, Dropout; loss 0.5 * sum_g (x - x_hat)^2 + 0.5 * alpha * KL.
class ScGenVAE : public PerturbModel {
 public:
  ScGenVAE(int64_t genes, int64_t latent, double dropout, double alpha, uint64_t seed);
  LossTerms losses(const Tensor& x, const Tensor& condition) override;
  Tensor encode_mean(const Tensor& x);  // posterior means (call in eval mode)
  Tensor decode(const Tensor& z);
  std::vector<std::pair<std::string, Generator*>> generators() override { return {{"noise", gen_.get()}}; }

 private:
  std::shared_ptr<Generator> gen_;
  std::shared_ptr<nn::GaussianEncoder> encoder_;
  std::shared_ptr<nn::Sequential> decoder_;
  double alpha_;
};

// MTAe (the perturbation thesis, thodkatz/thesis): encoder with input dropout, G -> 256 -> 128; decoder 128 -> 256 -> G
// with FiLM on the condition after the hidden BatchNorm. Each cell reconstructs itself under its own condition. With an
// adversary, a latent discriminator learns control vs perturbed from z and the encoder is trained to fool it (soft
// labels; total 0.9 rec + 0.1 adversarial).
class MultiTaskAE : public PerturbModel {
 public:
  MultiTaskAE(int64_t genes, int64_t conditions, double dropout, bool adversarial, uint64_t seed, double lr);
  LossTerms losses(const Tensor& x, const Tensor& condition) override;
  LossTerms adversary_step(const Tensor& x, const Tensor& condition) override;
  std::vector<Tensor> main_parameters() const override;
  std::vector<std::pair<std::string, Generator*>> generators() override { return {{"noise", gen_.get()}}; }
  std::vector<std::pair<std::string, Optimizer*>> internal_optimizers() override {
    if (!disc_optimizer_) return {};
    return {{"discriminator", disc_optimizer_.get()}};
  }
  Tensor encode(const Tensor& x);
  Tensor decode(const Tensor& z, const Tensor& condition);

 private:
  Tensor discriminator_logits(const Tensor& z);
  std::shared_ptr<Generator> gen_;
  std::shared_ptr<nn::Sequential> encoder_;
  std::shared_ptr<nn::Linear> dec_in_, dec_out_;
  std::shared_ptr<nn::BatchNorm1d> dec_bn_;
  std::shared_ptr<nn::FiLM> film_;
  std::shared_ptr<nn::Sequential> discriminator_;
  std::unique_ptr<Adam> disc_optimizer_;
  bool adversarial_;
};

}  // namespace cg::perturb
