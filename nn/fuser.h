#pragma once
// Fuser (UnitedNet): the softmax-weighted mean of M modality latents, z = sum_m softmax(w)_m z_m,
// with one learned logit w_m per modality.
//
// w starts at 1/M for every modality (UnitedNet's stored value); any constant start gives
// softmax(w) = 1/M, i.e. a plain mean, and keeps a UnitedNet checkpoint's w meaningful here.
#include <vector>

#include "nn/module.h"

namespace cg::nn {

class Fuser : public Module {
 public:
  Fuser(int64_t modalities, int64_t features);
  // latents: M tensors [N, features] of the same shape -> [N, features].
  Tensor forward(const std::vector<Tensor>& latents);
  // The current softmax(w), [1, M], for logging.
  Tensor modality_weights() const;
  int64_t modalities() const { return modalities_; }
  Tensor weight;  // [M] logits

 private:
  int64_t modalities_, features_;
};

}  // namespace cg::nn
