#pragma once
// The UnitedNet-style multi-task model (Tang et al. 2023, UnitedNet): per modality an encoder
// (in -> hidden... -> latent, BatchNorm + ReLU, Kaiming init; optionally a Gaussian/VAE
// encoder), a decoder mirroring it (FiLM-conditioned on the one-hot condition when there is
// one, as the multi-task autoencoder does) and a least-squares discriminator (in -> 64 -> 1);
// a softmax Fuser of the modality latents, a projector (latent -> projector, LayerNorm, ReLU)
// and a ClusterHead (projector -> classes). Parameter groups are exposed so the trainer can give
// each schedule group and the discriminators their own optimizer.
#include <cstdint>
#include <memory>
#include <vector>

#include "autograd/rng.h"
#include "nn/cluster_head.h"
#include "nn/film.h"
#include "nn/fuser.h"
#include "nn/gaussian_encoder.h"
#include "nn/mlp.h"

namespace cg::multitask {

struct ModelSpec {
  std::vector<int64_t> inputs;  // features per modality
  std::vector<bool> bce;        // per modality: sigmoid output (decode returns logits)
  std::vector<int64_t> hidden = {64, 64};
  int64_t latent = 64, projector = 100;
  int64_t classes = 0;     // 0: no classification head
  int64_t conditions = 0;  // 0: unconditioned decoders
  bool vae = false;
  bool discriminators = true;
};

// Decoder latent -> hidden (reversed) -> out; every hidden block is Linear -> BatchNorm ->
// (FiLM on the condition) -> ReLU, the output Linear is plain.
class ConditionedDecoder : public nn::Module {
 public:
  ConditionedDecoder(const std::vector<int64_t>& widths, int64_t conditions, Generator& gen);
  Tensor forward(const Tensor& z, const Tensor& condition);
  Tensor last_weight() const { return linears_.back()->weight; }

 private:
  std::vector<std::shared_ptr<nn::Linear>> linears_;
  std::vector<std::shared_ptr<nn::BatchNorm1d>> norms_;
  std::vector<std::shared_ptr<nn::FiLM>> films_;
};

class UnitedNetModel : public nn::Module {
 public:
  UnitedNetModel(const ModelSpec& spec, uint64_t seed);
  const ModelSpec& spec() const { return spec_; }
  size_t modalities() const { return spec_.inputs.size(); }

  struct Encoded {
    std::vector<Tensor> z, mu, logvar;  // mu/logvar only with vae
  };
  Encoded encode(const std::vector<Tensor>& x);
  // The latent of one modality alone (z; the posterior mean in eval mode).
  Tensor encode_one(size_t m, const Tensor& x);
  // Raw decoder output of modality `target` (logits for BCE modalities).
  Tensor decode(size_t target, const Tensor& z, const Tensor& condition);
  // decode, with the sigmoid applied for BCE modalities (what predictions are).
  Tensor predict(size_t target, const Tensor& z, const Tensor& condition);
  Tensor fuse(const std::vector<Tensor>& z);
  Tensor project(const Tensor& z);
  Tensor classify(const Tensor& projected);  // logits (needs classes > 0)
  Tensor discriminate(size_t m, const Tensor& x);

  std::vector<Tensor> encoder_parameters() const;
  std::vector<Tensor> decoder_parameters() const;
  std::vector<Tensor> head_parameters() const;  // fuser, projector, cluster head
  std::vector<Tensor> discriminator_parameters() const;
  // The output layer of every encoder: GradNorm's "last shared layer".
  std::vector<Tensor> last_shared_parameters() const;
  Generator& noise_generator() { return *noise_; }

 private:
  ModelSpec spec_;
  std::shared_ptr<Generator> noise_;
  std::vector<std::shared_ptr<nn::Sequential>> encoders_;
  std::vector<std::shared_ptr<nn::GaussianEncoder>> vae_encoders_;
  std::vector<std::shared_ptr<ConditionedDecoder>> decoders_;
  std::vector<std::shared_ptr<nn::Sequential>> discriminators_;
  std::shared_ptr<nn::Fuser> fuser_;
  std::shared_ptr<nn::Sequential> projector_;
  std::shared_ptr<nn::ClusterHead> head_;
};

}  // namespace cg::multitask
