#pragma once
// The plain deep reference: one MLP per translation direction (source -> target, every ordered
// pair of modalities), no shared latent, no classifier. Each hidden block is Linear -> BatchNorm
// -> ReLU -> Dropout; the output Linear is plain and feeds the target's likelihood
// (likelihoods.h). Trained by nn::fit with one Adam on the mean over directions of each
// direction's loss, early-stopped on the same loss over the validation cells.
// A pathway encoder (--encoder NAME=...) is one genes -> pathway activities front per source
// modality, shared by its directions (the modality's X_pathways), before each direction's MLP.
// Defaults (model_registry.cpp): hidden 256,256, dropout 0.1, Adam lr 1e-3, batch 64; PyTorch's default
// Linear init, and output biases started at the training mean (start_outputs_at_mean).
#include <memory>
#include <string>
#include <vector>

#include "apps/train_multitask/config.h"
#include "apps/train_multitask/model.h"
#include "apps/train_multitask/splits.h"
#include "apps/train_multitask/step_losses.h"
#include "nn/fit.h"

namespace cg::multitask {

class MlpTranslator : public TranslationModel {
 public:
  MlpTranslator(const ModelSpec& spec, uint64_t seed);
  int64_t latent_width() const override { return 0; }
  Tensor translate(size_t source, size_t target, const Tensor& x, const Tensor& condition) override;
  // The raw output (before the likelihood's prediction) of the source -> target network.
  Tensor raw(size_t source, size_t target, const Tensor& x);
  Generator& dropout_generator() { return *dropout_; }
  std::vector<Tensor> output_biases(size_t target) override;

 private:
  std::shared_ptr<Generator> dropout_;
  std::vector<std::vector<std::shared_ptr<nn::Sequential>>> nets_;  // [source][target]; null on the diagonal
};

nn::FitResult train_mlp(MlpTranslator& model, const Config& c, const TrainData& d, const Split& split, Device device,
                        const std::string& folder, const std::string& label);

}  // namespace cg::multitask
