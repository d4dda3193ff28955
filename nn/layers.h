#pragma once
// Basic layers: Linear, activations, Dropout, BatchNorm1d, LayerNorm, Sequential.
#include <memory>
#include <string>
#include <vector>

#include "autograd/csr_pattern.h"
#include "autograd/rng.h"
#include "nn/init.h"
#include "nn/module.h"

namespace cg::nn {

// How a Linear stores its weight. OutIn [out, in] is PyTorch's layout (so fan-in conventions and
// weights carry over); InOut [in, out] is for a first layer fed sparse batches: the sparse product
// then reads and writes whole contiguous weight rows per nonzero, with no transposes per step (two
// 22 MB transposes cost more than the whole sparse product of a 32-cell batch on 6998 genes).
enum class WeightLayout { OutIn, InOut };

class Linear : public Layer {
 public:
  // y = x W^T + b with W [out, in] (OutIn), or y = x W + b with W [in, out] (InOut); the same
  // initial values either way.
  Linear(int64_t in, int64_t out, Generator& gen, Init init = Init::TorchDefault, bool bias = true,
         WeightLayout layout = WeightLayout::OutIn);
  Tensor forward(const Tensor& x) override;
  // The same layer on a sparse batch [N, in] (an expression matrix in CSR): the product only
  // touches the nonzeros (csr_matmul); results equal forward(x.to_dense()) up to rounding.
  Tensor forward(const CsrMatrix& x);
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  WeightLayout layout() const { return layout_; }
  Tensor weight, bias;

 private:
  int64_t in_, out_;
  WeightLayout layout_;
};

enum class Activation { None, ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Softplus };
Activation parse_activation(const std::string& name);  // "none", "relu", "leaky_relu", "elu", ...
Tensor apply_activation(Activation act, const Tensor& x, double leaky_slope = 0.2);

class ActivationLayer : public Layer {
 public:
  explicit ActivationLayer(Activation act, double leaky_slope = 0.2)
      : Layer("Activation"), act_(act), slope_(leaky_slope) {}
  Tensor forward(const Tensor& x) override { return apply_activation(act_, x, slope_); }

 private:
  Activation act_;
  double slope_;
};

class Dropout : public Layer {
 public:
  // Shares the model's generator so that one seed fixes every mask of a run.
  Dropout(double p, std::shared_ptr<Generator> gen);
  Tensor forward(const Tensor& x) override;

 private:
  double p_;
  std::shared_ptr<Generator> gen_;
};

class BatchNorm1d : public Layer {
 public:
  explicit BatchNorm1d(int64_t features, double momentum = 0.1, double eps = 1e-5);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias, running_mean, running_var;

 private:
  int64_t features_;
  double momentum_, eps_;
};

class LayerNorm : public Layer {
 public:
  explicit LayerNorm(int64_t features, double eps = 1e-5);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;

 private:
  int64_t features_;
  double eps_;
};

// Layers applied in order; children are named "0", "1", ... like PyTorch's nn.Sequential.
class Sequential : public Layer {
 public:
  Sequential() : Layer("Sequential") {}
  void append(std::shared_ptr<Layer> layer);
  Tensor forward(const Tensor& x) override;
  size_t size() const { return layers_.size(); }
  const std::shared_ptr<Layer>& at(size_t i) const { return layers_.at(i); }

 private:
  std::vector<std::shared_ptr<Layer>> layers_;
};

}  // namespace cg::nn
