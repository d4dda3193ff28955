#pragma once
// The UnitedNet-style multi-task model (Tang et al. 2023, UnitedNet): per modality an encoder
// (in -> hidden... -> latent, BatchNorm + ReLU, Kaiming init; optionally a Gaussian/VAE
// encoder), a decoder mirroring it (FiLM-conditioned on the one-hot condition when there is
// one, as the multi-task autoencoder does) and a least-squares discriminator (in -> 64 -> 1);
// a softmax Fuser of the modality latents, a projector (latent -> projector, LayerNorm, ReLU)
// and a ClusterHead (projector -> classes). A modality with a pathway encoder (--encoder) feeds
// its pathway activities, not its features, to its encoder; its decoder and discriminator still
// see the features. Parameter groups are exposed so the trainer can give
// each schedule group and the discriminators their own optimizer.
#include <cstdint>
#include <memory>
#include <vector>

#include "apps/common/pathway_encoder.h"
#include "autograd/rng.h"
#include "nn/cluster_head.h"
#include "nn/film.h"
#include "nn/fuser.h"
#include "nn/gaussian_encoder.h"
#include "apps/train_multitask/likelihoods.h"
#include "nn/mlp.h"

namespace cg::multitask {

struct ModelSpec {
  std::string model = "unitednet";  // the model registry's name (model_registry.h)
  std::vector<int64_t> inputs;      // features per modality
  std::vector<bool> bce;            // per modality: sigmoid output (decode returns logits)
  // Per modality: the likelihood's name (likelihoods.h); empty: mse, or bce where bce is set.
  std::vector<std::string> likelihood;
  // Per modality with a count likelihood: the training cells' mean raw-count total (0 otherwise).
  std::vector<double> library;
  double dropout = 0;  // hidden-layer dropout (mlp, scbutterfly)
  std::vector<int64_t> hidden = {64, 64};
  int64_t latent = 64, projector = 100;
  int64_t classes = 0;     // 0: no classification head
  int64_t conditions = 0;  // 0: unconditioned decoders
  bool vae = false;
  bool discriminators = true;
  // Per modality: how its encoder reads the features (empty, or Mlp: directly). A pathway encoder
  // puts a genes -> pathway activities front (apps/common/pathway_encoder.h) before the model's
  // own encoder layers, whose input is then the activities.
  std::vector<apps::GeneEncoderSpec> gene_encoders;

  const LikelihoodInfo& output(size_t m) const;
  const apps::GeneEncoderSpec& gene_encoder(size_t m) const;
  // The width the model's own encoder layers of modality m read: its pathways or its features.
  int64_t encoder_inputs(size_t m) const;  // the likelihood of modality m
  int64_t outputs(size_t m) const { return inputs[m] * output(m).outputs_per_feature; }
};

// What train_multitask's training, evaluation, model folders and `predict` see of a model: each
// registered model (model_registry.h) is one of these.
class TranslationModel : public nn::Module {
 public:
  TranslationModel(const std::string& type, const ModelSpec& spec);
  const ModelSpec& spec() const { return spec_; }
  size_t modalities() const { return spec_.inputs.size(); }

  // Width of the per-modality latent; 0 when the model has none (no latent outputs, clustering).
  virtual int64_t latent_width() const = 0;
  // The latent of one modality alone (the posterior mean in eval mode).
  virtual Tensor encode_one(size_t m, const Tensor& x);
  // The latent of all modalities together (every modality's latent, in model order).
  virtual Tensor fuse(const std::vector<Tensor>& z);
  virtual bool has_classifier() const { return false; }
  virtual Tensor classify_fused(const Tensor& fused);  // logits
  // Modality `target` predicted from modality `source`'s values x (probabilities for bce, mean
  // counts for nb/zinb; see output_prediction).
  virtual Tensor translate(size_t source, size_t target, const Tensor& x, const Tensor& condition) = 0;

  // Sets the bias of every output layer decoding modality m so that the model starts at the
  // training cells' mean: the means (mse), their logits (bce), the log of the mean proportions
  // (nb, zinb; zero inflation starts at logit 0). `x` and `counts` are the training rows.
  void start_outputs_at_mean(size_t m, const omics::DenseMatrix& x, const omics::DenseMatrix& counts);
  // The output layers' biases of modality m (none: the model keeps its initialisation).
  virtual std::vector<Tensor> output_biases(size_t) { return {}; }

  // Modality m's pathway activities (cells x pathways) for its values x; only for a modality
  // with a pathway encoder (has_pathways).
  bool has_pathways(size_t m) const { return m < fronts_.size() && fronts_[m]; }
  Tensor pathway_activities(size_t m, const Tensor& x);
  std::vector<Tensor> pathway_parameters() const;  // every front's

  // The loss of modality m's raw decoder output, and the prediction made from it.
  Tensor output_loss(size_t m, const Tensor& out, const Tensor& x, const Tensor& counts, const Tensor& library);
  Tensor output_prediction(size_t m, const Tensor& out);

 protected:
  // Registers the count parameters of every count modality ("counts<m>"); call once.
  void add_count_parameters();
  // Registers the pathway front of every modality with a pathway encoder ("pathways<m>"), drawn
  // from its own generator stream so that models without one keep their weights bit for bit;
  // call once, in the constructor.
  void add_pathway_fronts(uint64_t seed);
  // What modality m's own encoder layers read: x itself, or its pathway activities.
  Tensor encoder_input(size_t m, const Tensor& x);
  ModelSpec spec_;

 private:
  std::vector<std::shared_ptr<CountParameters>> counts_;  // per modality; null without counts
  std::vector<std::shared_ptr<apps::PathwayFront>> fronts_;  // per modality; null for Mlp
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

class UnitedNetModel : public TranslationModel {
 public:
  UnitedNetModel(const ModelSpec& spec, uint64_t seed);
  int64_t latent_width() const override { return spec_.latent; }
  bool has_classifier() const override { return static_cast<bool>(head_); }
  Tensor classify_fused(const Tensor& fused) override { return classify(project(fused)); }
  Tensor translate(size_t source, size_t target, const Tensor& x, const Tensor& condition) override {
    return predict(target, encode_one(source, x), condition);
  }

  struct Encoded {
    std::vector<Tensor> z, mu, logvar;  // mu/logvar only with vae
  };
  Encoded encode(const std::vector<Tensor>& x);
  // The latent of one modality alone (z; the posterior mean in eval mode).
  Tensor encode_one(size_t m, const Tensor& x) override;
  // Raw decoder output of modality `target` (logits for BCE modalities).
  Tensor decode(size_t target, const Tensor& z, const Tensor& condition);
  // decode, through the modality's output (sigmoid for BCE, mean counts for nb/zinb).
  Tensor predict(size_t target, const Tensor& z, const Tensor& condition);
  Tensor fuse(const std::vector<Tensor>& z) override;
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
