#pragma once
// The trainable perturbation models. Each turns a batch (cells x genes, plus each cell's
// one-hot condition) into named loss terms; the first term, "loss", is what backward uses.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "apps/common/discrepancy_batch.h"
#include "apps/common/pathway_encoder.h"
#include "autograd/optim.h"
#include "nn/film.h"
#include "nn/gaussian_encoder.h"
#include "nn/mlp.h"

namespace cg::perturb {

using LossTerms = std::vector<std::pair<std::string, Tensor>>;

// How a network reads the genes (Mlp, or a genes -> pathway activities front): pathway_encoder.h.
using apps::GeneEncoderSpec;
using apps::PathwayFront;

class PerturbModel : public nn::Module {
 public:
  using nn::Module::Module;
  // With `discrepancy` (weight > 0; discrepancy_batch.h), the terms gain "mmd" (the mean over the batch's perturbed
  // values of MMD^2_u(predicted, observed)) and "loss" gains weight * mmd; null: the model's own
  // terms only, exactly as without the option. 0 when the batch lacks two controls or two
  // perturbed cells of every value.
  virtual LossTerms losses(const Tensor& x, const Tensor& condition, const DiscrepancyBatch* discrepancy) = 0;
  LossTerms losses(const Tensor& x, const Tensor& condition) { return losses(x, condition, nullptr); }
  // Models with an adversary update it here, with its own optimizer and its own backward,
  // before the main step (MTAe --adversarial). Returns its loss terms for logging.
  virtual LossTerms adversary_step(const Tensor& x, const Tensor& condition) { return {}; }
  // Parameters updated by the main optimizer (the adversary's are left out).
  virtual std::vector<Tensor> main_parameters() const { return parameters(); }
  // What a resumable fit must save besides parameters and buffers: the model's own noise
  // generators (dropout, sampling) and an adversary's optimizer.
  virtual std::vector<std::pair<std::string, Generator*>> generators() { return {}; }
  virtual std::vector<std::pair<std::string, Optimizer*>> internal_optimizers() { return {}; }
  // The genes -> pathways front of a pathway encoder; null for the Mlp encoder.
  virtual PathwayFront* pathway_front() const { return nullptr; }
};


// scGen: VAE G -> hidden... -> (mu, logvar) latent, decoder latent -> hidden reversed -> G; blocks
// Linear, BatchNorm, LeakyReLU, Dropout; loss 0.5 * sum_g (x - x_hat)^2 + 0.5 * alpha * KL.
class ScGenVAE : public PerturbModel {
 public:
  ScGenVAE(int64_t genes, const std::vector<int64_t>& hidden, int64_t latent, double dropout, double alpha,
           uint64_t seed, const GeneEncoderSpec& gene_encoder = {});
  using PerturbModel::losses;
  LossTerms losses(const Tensor& x, const Tensor& condition, const DiscrepancyBatch* discrepancy) override;
  Tensor encode_mean(const Tensor& x);  // posterior means (call in eval mode)
  Tensor decode(const Tensor& z);
  std::vector<std::pair<std::string, Generator*>> generators() override { return {{"noise", gen_.get()}}; }
  PathwayFront* pathway_front() const override { return front_.get(); }

 private:
  nn::GaussianEncoder::Output encode(const Tensor& x);
  std::shared_ptr<Generator> gen_;
  std::shared_ptr<PathwayFront> front_;  // null for the Mlp encoder
  std::shared_ptr<nn::GaussianEncoder> encoder_;
  std::shared_ptr<nn::Sequential> decoder_;
  double alpha_;
};

// The multi-task autoencoder family of the perturbation thesis (thodkatz/thesis,
// multi_task_aae.py): an encoder with input dropout, and a decoder with FiLM on the one-hot
// condition after the batch norm of every hidden layer. Each cell reconstructs itself under its
// own condition (MSE); a prediction decodes a control cell's latent under the target condition.
struct MtaeSpec {
  int64_t genes = 0, conditions = 0;
  std::vector<int64_t> hidden = {256};  // encoder hidden widths; the decoder mirrors them
  int64_t latent = 128;
  double input_dropout = 0.2, dropout = 0.5;
  double slope = 0.01;  // LeakyReLU negative slope (PyTorch's default, what the thesis uses)
  // The thesis's blocks end in LeakyReLU: the latent, each FiLM head (gamma, beta) and the output.
  bool activated_outputs = true;
  // MTVae: mu and logvar heads (each Linear + LeakyReLU, as the thesis) and alpha * KL.
  bool variational = false;
  double alpha = 0;
  // MTAeAdv (> 0): a latent discriminator learns control vs perturbed (soft labels 0.1/0.9) with
  // its own Adam at disc_lr; the encoder adds adversarial * BCE(D(z), flipped labels).
  double adversarial = 0, disc_lr = 1e-3;
  // Not Mlp: the encoder reads pathway activities instead of genes (input dropout then drops
  // activities, not genes).
  GeneEncoderSpec gene_encoder;
};

class MultiTaskAE : public PerturbModel {
 public:
  MultiTaskAE(const MtaeSpec& spec, uint64_t seed);
  using PerturbModel::losses;
  LossTerms losses(const Tensor& x, const Tensor& condition, const DiscrepancyBatch* discrepancy) override;
  LossTerms adversary_step(const Tensor& x, const Tensor& condition) override;
  std::vector<Tensor> main_parameters() const override;
  std::vector<std::pair<std::string, Generator*>> generators() override { return {{"noise", gen_.get()}}; }
  // The discriminator's Adam, made on first use: after the model has moved to its device (an
  // optimizer made on the CPU would step CUDA parameters with CPU state).
  std::vector<std::pair<std::string, Optimizer*>> internal_optimizers() override;
  PathwayFront* pathway_front() const override { return front_.get(); }
  Tensor encode(const Tensor& x);  // the latent (posterior mean for MTVae; call in eval mode)
  Tensor decode(const Tensor& z, const Tensor& condition);

 private:
  struct Encoded {
    Tensor z, mu, logvar;
  };
  Encoded encode_sampled(const Tensor& x);
  Tensor discriminator_logits(const Tensor& z);
  MtaeSpec spec_;
  std::shared_ptr<Generator> gen_;
  std::shared_ptr<PathwayFront> front_;  // null for the Mlp encoder
  std::shared_ptr<nn::Sequential> encoder_;
  std::shared_ptr<nn::Linear> mu_, logvar_;
  std::vector<std::shared_ptr<nn::Linear>> dec_layers_;  // hidden layers, then the output layer
  std::vector<std::shared_ptr<nn::BatchNorm1d>> dec_norms_;
  std::vector<std::shared_ptr<nn::FiLM>> films_;
  std::vector<std::shared_ptr<nn::Dropout>> dec_dropouts_;
  std::shared_ptr<nn::Sequential> discriminator_;
  std::unique_ptr<Adam> disc_optimizer_;
};

}  // namespace cg::perturb
