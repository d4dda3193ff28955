#pragma once
// Weight initialisations in use by the models we implement: Kaiming normal
// (UnitedNet), Xavier/Glorot uniform and normal (scGen TF, scButterfly), and PyTorch's
// nn.Linear default. Draws come from a Philox Generator on the CPU, so a seed fixes them.
#include <string>

#include "autograd/rng.h"
#include "autograd/tensor.h"

namespace cg::nn {

enum class Init { TorchDefault, KaimingNormal, XavierUniform, XavierNormal };
Init parse_init(const std::string& name);  // "torch", "kaiming", "xavier", "xavier_normal"

// Weight of shape [fan_out, fan_in]; the bias (if any) follows the same scheme's convention.
Tensor init_weight(Init init, int64_t fan_in, int64_t fan_out, Generator& gen);
Tensor init_bias(Init init, int64_t fan_in, int64_t fan_out, Generator& gen);

}  // namespace cg::nn
