#pragma once
// scButterfly (Cao et al. 2024, dual-aligned VAEs; BioX-NKU/scButterfly, model_component.py and
// train_model_cite.py), generalised from two modalities to M:
//   - per modality a modality encoder in -> h0 -> h1 (Linear, BatchNorm, LeakyReLU 0.01, Dropout
//     between layers; Xavier-uniform weights; input dropout "noise" 0.5 on the first --modality,
//     scButterfly's RNA side, 0 on the others), h0 = hidden[0] when the modality has more
//     features than that, else h1 (RNA [G, 256, 128], ADT [n, 128, 128]);
//   - with --encoder NAME=masked-linear|pathway-attention, the modality encoder reads the
//     modality's pathway activities (a PathwayFront) instead of its genes; the input dropout stays
//     on the genes;
//   - per modality a VAE translator: mu = LeakyReLU(BN(W_mu h)), logvar = LeakyReLU(BN(W_v h)),
//     z = mu + eps exp(logvar / 2) while training, mu when predicting; its decoder
//     LeakyReLU(BN(W z)) back to h1;
//   - per modality a decoder h1 -> h0 -> out mirroring the encoder; the output Linear is plain
//     and feeds the modality's likelihood (sigmoid logits for bce, count logits for nb/zinb;
//     scButterfly's BatchNorm + LeakyReLU output layer is left out because our mse targets are
//     standardized or CLR values that may be negative);
//   - a latent discriminator z -> M logits (which modality a latent came from; scButterfly's is
//     one sigmoid unit for its two modalities).
// Translation j -> i: dec_i(tdec_i(z_j)). Training, both with nn::fit:
//   1. pretraining (--pretrain-epochs, default 100): each modality as its own VAE, loss
//      sum_m d(dec_m(tdec_m(z_m)), x_m) + kl_weight * KL_m, KL averaged over latent units, its
//      weight ramped from 0 over --kl-warmup epochs; early stopping on validation reconstruction;
//   2. cross translation (--epochs, default 200, --patience 50): per target i, w_i * sum over
//      sources j (j = i included) of d(dec_i(tdec_i(z_j)), x_i), w = 1 for the first modality and 2
//      for the others (scButterfly's loss_weight [1, 2, 1]), + kl_weight * KL (warmed up again) +
//      the generator term (each latent's discriminator logits pushed to the next modality's
//      label; for two modalities the flipped label, weight 1); the discriminator then takes its
//      own Adam step (lr 5 x --lr, scButterfly's 0.005) on the true labels of the detached latents.
//      Early stopping on the validation reconstruction + translation loss.
// kl_weight = 20 / (features of the first modality), as scButterfly's R_kl_div. Adam lr 1e-3,
// batch 64, dropout 0.1, latent 128 (model_registry.cpp records these defaults). Output biases
// start at the training mean (start_outputs_at_mean), as the mlp's do.
#include <memory>
#include <string>
#include <vector>

#include "apps/train_multitask/config.h"
#include "apps/train_multitask/model.h"
#include "apps/train_multitask/splits.h"
#include "apps/train_multitask/step_losses.h"
#include "nn/fit.h"

namespace cg::multitask {

class ScButterflyModel : public TranslationModel {
 public:
  ScButterflyModel(const ModelSpec& spec, uint64_t seed);
  int64_t latent_width() const override { return spec_.latent; }
  Tensor encode_one(size_t m, const Tensor& x) override { return encode(m, x).z; }
  // The mean of the modality latents (the discriminator aligns them).
  Tensor fuse(const std::vector<Tensor>& z) override;
  Tensor translate(size_t source, size_t target, const Tensor& x, const Tensor& condition) override;

  struct Latent {
    Tensor z, mu, logvar;
  };
  Latent encode(size_t m, const Tensor& x);
  Tensor decode(size_t target, const Tensor& z);  // raw output
  Tensor discriminate(const Tensor& z);           // [n, M] logits

  std::vector<Tensor> generator_parameters() const;  // everything but the discriminator
  std::vector<Tensor> discriminator_parameters() const;
  Generator& noise_generator() { return *noise_; }
  double kl_weight() const;
  std::vector<Tensor> output_biases(size_t target) override;

 private:
  std::shared_ptr<Generator> noise_;
  std::vector<std::shared_ptr<nn::Dropout>> input_dropouts_;  // before a pathway front (null otherwise)
  std::vector<std::shared_ptr<nn::Sequential>> encoders_, decoders_;
  std::vector<std::shared_ptr<nn::Sequential>> mu_, logvar_, latent_decoders_;
  std::shared_ptr<nn::Linear> discriminator_;
};

nn::FitResult train_scbutterfly(ScButterflyModel& model, const Config& c, const TrainData& d, const Split& split,
                                Device device, const std::string& folder, const std::string& label);

}  // namespace cg::multitask
