#pragma once
// The MLP builder the models share: a list of widths, and per hidden block
//   Linear -> (Dropout) -> (BatchNorm1d) -> (LayerNorm) -> activation        (UnitedNet order)
// or, with dropout_after_activation,
//   Linear -> (BatchNorm1d) -> (LayerNorm) -> activation -> (Dropout)        (scGen order).
// The last Linear is plain (only output_activation) unless plain_output is false.
#include <memory>
#include <vector>

#include "nn/layers.h"

namespace cg::nn {

struct MLPConfig {
  std::vector<int64_t> widths;  // input, hidden..., output (at least 2 entries)
  Activation activation = Activation::ReLU;
  Activation output_activation = Activation::None;
  double leaky_slope = 0.2;
  double dropout = 0.0;
  bool dropout_after_activation = false;
  bool batch_norm = false;
  bool layer_norm = false;
  bool plain_output = true;
  double input_dropout = 0.0;  // dropout on the input itself (MTAe, scButterfly)
  Init init = Init::TorchDefault;
};

// init_gen draws the weights now; dropout_gen draws the masks during training.
std::shared_ptr<Sequential> make_mlp(const MLPConfig& config, Generator& init_gen,
                                     std::shared_ptr<Generator> dropout_gen);

}  // namespace cg::nn
