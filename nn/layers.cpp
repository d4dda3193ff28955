#include "nn/layers.h"

#include "autograd/error.h"
#include "autograd/ops.h"

namespace cg::nn {

// ---- Linear ------------------------------------------------------------------------------------
Linear::Linear(int64_t in, int64_t out, Generator& gen, Init init, bool use_bias, WeightLayout layout)
    : Layer("Linear"), in_(in), out_(out), layout_(layout) {
  CG_CHECK(in > 0 && out > 0, "Linear: widths must be positive, found in " << in << " out " << out);
  const Tensor w = init_weight(init, in, out, gen);
  weight = register_parameter("weight", layout == WeightLayout::OutIn ? w : transpose(w));
  if (use_bias) bias = register_parameter("bias", init_bias(init, in, out, gen));
}

Tensor Linear::forward(const Tensor& x) {
  CG_CHECK(x.defined() && x.rank() == 2 && x.cols() == in_,
           "Linear(" << in_ << " -> " << out_ << "): expected input [N, " << in_ << "], found " << x.describe());
  Tensor y = layout_ == WeightLayout::OutIn ? matmul(x, weight, false, true) : matmul(x, weight);
  return bias.defined() ? bias_add(y, bias) : y;
}

Tensor Linear::forward(const CsrMatrix& x) {
  CG_CHECK(x.values.defined() && x.cols() == in_,
           "Linear(" << in_ << " -> " << out_ << "): expected a sparse input [N, " << in_ << "], found "
                     << (x.values.defined() ? "[" + std::to_string(x.rows()) + ", " + std::to_string(x.cols()) + "]"
                                            : std::string("none")));
  // The product reads whole [in, out] rows per nonzero (coalesced on the GPU, vectorised here); an
  // OutIn weight is transposed for it (and its gradient back) every call.
  Tensor y = csr_matmul(x, layout_ == WeightLayout::InOut ? weight : transpose(weight));
  return bias.defined() ? bias_add(y, bias) : y;
}

// ---- activations -------------------------------------------------------------------------------
Activation parse_activation(const std::string& name) {
  if (name == "none" || name.empty()) return Activation::None;
  if (name == "relu") return Activation::ReLU;
  if (name == "leaky_relu") return Activation::LeakyReLU;
  if (name == "elu") return Activation::ELU;
  if (name == "sigmoid") return Activation::Sigmoid;
  if (name == "tanh") return Activation::Tanh;
  if (name == "softplus") return Activation::Softplus;
  throw Error("unknown activation '" + name + "' (expected none, relu, leaky_relu, elu, sigmoid, tanh, softplus)");
}

Tensor apply_activation(Activation act, const Tensor& x, double leaky_slope) {
  switch (act) {
    case Activation::None: return x;
    case Activation::ReLU: return relu(x);
    case Activation::LeakyReLU: return leaky_relu(x, leaky_slope);
    case Activation::ELU: return elu(x, 1.0);
    case Activation::Sigmoid: return sigmoid(x);
    case Activation::Tanh: return tanh(x);
    case Activation::Softplus: return softplus(x);
  }
  return x;
}

// ---- Dropout -----------------------------------------------------------------------------------
Dropout::Dropout(double p, std::shared_ptr<Generator> gen) : Layer("Dropout"), p_(p), gen_(std::move(gen)) {
  CG_CHECK(p >= 0.0 && p < 1.0, "Dropout: probability must be in [0, 1), found " << p);
  CG_CHECK(gen_ != nullptr, "Dropout: needs a generator");
}
Tensor Dropout::forward(const Tensor& x) { return dropout(x, p_, is_training(), *gen_); }

// ---- BatchNorm1d -------------------------------------------------------------------------------
BatchNorm1d::BatchNorm1d(int64_t features, double momentum, double eps)
    : Layer("BatchNorm1d"), features_(features), momentum_(momentum), eps_(eps) {
  CG_CHECK(features > 0, "BatchNorm1d: features must be positive, found " << features);
  weight = register_parameter("weight", Tensor::ones({features}));
  bias = register_parameter("bias", Tensor::zeros({features}));
  running_mean = register_buffer("running_mean", Tensor::zeros({features}));
  running_var = register_buffer("running_var", Tensor::ones({features}));
}

Tensor BatchNorm1d::forward(const Tensor& x) {
  CG_CHECK(x.defined() && x.rank() == 2 && x.cols() == features_,
           "BatchNorm1d(" << features_ << "): expected input [N, " << features_ << "], found " << x.describe());
  return batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum_, eps_);
}

// ---- LayerNorm ---------------------------------------------------------------------------------
LayerNorm::LayerNorm(int64_t features, double eps) : Layer("LayerNorm"), features_(features), eps_(eps) {
  CG_CHECK(features > 1, "LayerNorm: needs at least 2 features to normalise over, found "
                             << features << " (a LayerNorm over one unit outputs a constant)");
  weight = register_parameter("weight", Tensor::ones({features}));
  bias = register_parameter("bias", Tensor::zeros({features}));
}

Tensor LayerNorm::forward(const Tensor& x) {
  CG_CHECK(x.defined() && x.cols() == features_,
           "LayerNorm(" << features_ << "): expected input [N, " << features_ << "], found " << x.describe());
  return layer_norm(x, weight, bias, eps_);
}

// ---- Sequential --------------------------------------------------------------------------------
void Sequential::append(std::shared_ptr<Layer> layer) {
  register_module(std::to_string(layers_.size()), layer);
  layers_.push_back(std::move(layer));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& layer : layers_) h = layer->forward(h);
  return h;
}

}  // namespace cg::nn
