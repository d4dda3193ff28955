// nn core: Module naming/freezing/moves, Linear and its inits, MLP builder order, BatchNorm1d and
// LayerNorm layers, Dropout layer, GaussianEncoder, FiLM — forward values, gradient checks in
// double precision, CUDA parity.
#include <doctest/doctest.h>

#include <cmath>

#include "nn/film.h"
#include "nn/gaussian_encoder.h"
#include "nn/mlp.h"
#include "tests/op_check.h"

using namespace cg;
using namespace cg::nn;
using cg::test::random_input;

namespace {
// Gradient check of a module w.r.t. its input and every parameter: the parameters are passed
// as gradcheck inputs (they are leaf tensors requiring grad), the input first.
template <class F> void check_module_gradients(Module& m, const Tensor& x, F forward) {
  m.to(DType::F64);
  std::vector<Tensor> inputs{x};
  for (auto& [name, p] : m.named_parameters()) inputs.push_back(p);
  CHECK_GRADIENTS([&](const std::vector<Tensor>& in) { return forward(in[0]); }, inputs);
}

std::vector<std::string> names_of(const Module& m) {
  std::vector<std::string> out;
  for (const auto& [n, t] : m.named_parameters()) out.push_back(n);
  return out;
}
}  // namespace

TEST_CASE("Linear: y = x W^T + b with W [out, in], and each init has its documented scale") {
  Generator gen(3);
  Linear lin(3, 2, gen);
  lin.weight.copy_(Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3}));
  lin.bias.copy_(Tensor::from_vector(std::vector<float>{0.5f, -1}, {2}));
  const auto y = lin.forward(Tensor::from_vector(std::vector<float>{1, 0, -1, 2, 1, 0}, {2, 3})).to_vector<float>();
  CHECK(y == std::vector<float>{-1.5f, -3.f, 4.5f, 12.f});
  CHECK_THROWS_WITH_AS(lin.forward(Tensor::ones({2, 4})), doctest::Contains("Linear(3 -> 2)"), cg::Error);

  // Empirical standard deviations of large layers against the formulas.
  auto std_of = [](const Tensor& w) {
    const auto v = w.to_vector<double>();
    double s = 0, ss = 0;
    for (double a : v) {
      s += a;
      ss += a * a;
    }
    const double m = s / v.size();
    return std::sqrt(ss / v.size() - m * m);
  };
  Generator g2(11);
  CHECK(std_of(Linear(400, 300, g2, Init::KaimingNormal).weight) ==
        doctest::Approx(std::sqrt(2.0 / 400)).epsilon(0.02));
  CHECK(std_of(Linear(400, 300, g2, Init::XavierUniform).weight) ==
        doctest::Approx(std::sqrt(2.0 / 700)).epsilon(0.02));
  CHECK(std_of(Linear(400, 300, g2, Init::XavierNormal).weight) == doctest::Approx(std::sqrt(2.0 / 700)).epsilon(0.02));
  CHECK(std_of(Linear(400, 300, g2, Init::TorchDefault).weight) ==
        doctest::Approx(1.0 / std::sqrt(3.0 * 400)).epsilon(0.02));
  CHECK(Linear(4, 3, g2, Init::KaimingNormal).bias.to_vector<float>() == std::vector<float>(3, 0.f));
  // the same seed gives the same weights
  Generator a(5), b(5);
  CHECK(Linear(7, 4, a).weight.to_vector<float>() == Linear(7, 4, b).weight.to_vector<float>());
}

TEST_CASE("MLP builder: block order, dotted names, and gradients") {
  Generator gen(1);
  auto dgen = std::make_shared<Generator>(2);
  MLPConfig c;
  c.widths = {5, 4, 3};
  c.activation = Activation::ReLU;
  c.dropout = 0.1;
  c.batch_norm = true;
  c.layer_norm = true;
  auto mlp = make_mlp(c, gen, dgen);
  // Linear -> Dropout -> BatchNorm -> LayerNorm -> ReLU, then a plain output Linear.
  std::vector<std::string> types;
  for (size_t i = 0; i < mlp->size(); ++i) types.push_back(mlp->at(i)->type_name());
  CHECK(types == std::vector<std::string>{"Linear", "Dropout", "BatchNorm1d", "LayerNorm", "Activation", "Linear"});
  CHECK(names_of(*mlp) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "3.bias",
                                                   "5.weight", "5.bias"});
  CHECK(mlp->named_buffers().size() == 2);  // running mean and var
  // scGen order: the dropout after the activation
  c.dropout_after_activation = true;
  c.layer_norm = false;
  auto scgen_block = make_mlp(c, gen, dgen);
  types.clear();
  for (size_t i = 0; i < scgen_block->size(); ++i) types.push_back(scgen_block->at(i)->type_name());
  CHECK(types == std::vector<std::string>{"Linear", "BatchNorm1d", "Activation", "Dropout", "Linear"});
  CHECK_THROWS_WITH_AS(make_mlp(MLPConfig{{5}}, gen, dgen), doctest::Contains("MLP"), cg::Error);

  // Gradients through a BN + tanh MLP in training mode (dropout off: deterministic).
  MLPConfig g;
  g.widths = {4, 6, 3};
  g.activation = Activation::Tanh;
  g.batch_norm = true;
  auto net = make_mlp(g, gen, nullptr);
  Tensor x = random_input({5, 4}, 9);
  check_module_gradients(*net, x, [&](const Tensor& in) { return net->forward(in); });
  // eval mode uses running statistics; still differentiable
  net->eval();
  check_module_gradients(*net, x, [&](const Tensor& in) { return net->forward(in); });
}

TEST_CASE("Module: train/eval propagates, freeze removes parameters, moves keep the layers' tensors") {
  Generator gen(4);
  auto dgen = std::make_shared<Generator>(5);
  MLPConfig c;
  c.widths = {3, 4, 2};
  c.dropout = 0.5;
  auto net = make_mlp(c, gen, dgen);
  CHECK(net->is_training());
  net->eval();
  CHECK_FALSE(net->at(1)->is_training());
  // dropout is the identity in eval mode
  Tensor x = Tensor::ones({4, 3});
  CHECK(net->forward(x).to_vector<float>() == net->forward(x).to_vector<float>());
  CHECK(net->parameters().size() == 4);
  net->at(0)->freeze();
  CHECK(net->parameters().size() == 2);
  CHECK(net->named_parameters().size() == 4);
  // frozen weights get no gradient
  net->train();
  sum(net->forward(x)).backward();
  CHECK_FALSE(std::static_pointer_cast<Linear>(net->at(0))->weight.grad().defined());
  CHECK(std::static_pointer_cast<Linear>(net->at(3))->weight.grad().defined());
  // dtype move keeps the member tensors in sync with named_parameters
  auto lin = std::static_pointer_cast<Linear>(net->at(0));
  net->to(DType::F64);
  CHECK(lin->weight.dtype() == DType::F64);
  CHECK(net->named_parameters()[0].second.raw_data() == lin->weight.raw_data());
}

TEST_CASE("BatchNorm1d and LayerNorm layers: statistics, running buffers, shape errors") {
  BatchNorm1d bn(2, 0.1, 0.0);
  Tensor x = Tensor::from_vector(std::vector<float>{1, 10, 3, 20, 5, 30}, {3, 2});
  const auto y = bn.forward(x).to_vector<float>();
  // column 0: mean 3, biased var 8/3
  CHECK(y[0] == doctest::Approx(-2.0 / std::sqrt(8.0 / 3)).epsilon(1e-5));
  CHECK(bn.running_mean.to_vector<float>()[1] == doctest::Approx(2.0));             // 0.9 * 0 + 0.1 * 20
  CHECK(bn.running_var.to_vector<float>()[0] == doctest::Approx(0.9 + 0.1 * 4.0));  // unbiased var 4
  bn.eval();
  CHECK(bn.forward(x).to_vector<float>()[0] == doctest::Approx((1 - 0.3) / std::sqrt(1.3)).epsilon(1e-5));
  CHECK_THROWS_WITH_AS(bn.forward(Tensor::ones({3, 3})), doctest::Contains("BatchNorm1d(2)"), cg::Error);
  LayerNorm ln(3, 0.0);
  const auto z = ln.forward(Tensor::from_vector(std::vector<float>{1, 2, 3}, {1, 3})).to_vector<float>();
  CHECK(z[0] == doctest::Approx(-std::sqrt(1.5)).epsilon(1e-5));
  CHECK_THROWS_WITH_AS(LayerNorm(1), doctest::Contains("LayerNorm"), cg::Error);  // UnitedNet's constant discriminator
}

TEST_CASE("GaussianEncoder: reparameterised sample while training, posterior mean in eval, gradients") {
  Generator gen(7);
  auto noise = std::make_shared<Generator>(8);
  MLPConfig body;
  body.widths = {4, 6};
  body.activation = Activation::Tanh;
  GaussianEncoder enc(body, 3, gen, noise);
  Tensor x = Tensor::ones({5, 4});
  auto out = enc.forward(x);
  CHECK(out.z.shape() == Shape{5, 3});
  // z = mu + eps * exp(logvar / 2) with eps from the shared generator
  Generator replay(8);
  replay.set_state(8, noise->offset() - (15 + 3) / 4);
  const auto eps = replay.normal({5, 3}).to_vector<float>();
  const auto mu = out.mu.to_vector<float>(), lv = out.logvar.to_vector<float>(), z = out.z.to_vector<float>();
  for (int i = 0; i < 15; ++i) CHECK(z[i] == doctest::Approx(mu[i] + eps[i] * std::exp(lv[i] / 2)).epsilon(1e-5));
  enc.eval();
  auto ev = enc.forward(x);
  CHECK(ev.z.to_vector<float>() == ev.mu.to_vector<float>());
  // gradient check of mu + logvar through the encoder (eval: deterministic)
  check_module_gradients(enc, random_input({3, 4}, 2), [&](const Tensor& in) {
    auto o = enc.forward(in);
    return concat({o.mu, o.logvar}, 1);
  });
  // training mode with a fixed noise state is deterministic too: check the sample's gradient
  enc.train();
  check_module_gradients(enc, random_input({3, 4}, 3), [&](const Tensor& in) {
    noise->set_state(8, 0);
    return enc.forward(in).z;
  });
}

TEST_CASE("FiLM: identity at start, gamma(c) * h + beta(c), gradients, shape errors") {
  Generator gen(9);
  FiLM film(2, 3, gen);
  Tensor h = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor c = Tensor::from_vector(std::vector<float>{1, 0, 0, 1}, {2, 2});
  CHECK(film.forward(h, c).to_vector<float>() == h.to_vector<float>());
  film.gamma->weight.copy_(Tensor::from_vector(std::vector<float>{1, 0, 0, 0, 0, 0}, {3, 2}));  // gamma_0 += c_0
  film.beta->bias.copy_(Tensor::from_vector(std::vector<float>{0, 0, 10}, {3}));
  CHECK(film.forward(h, c).to_vector<float>() == std::vector<float>{2, 2, 13, 4, 5, 16});
  CHECK_THROWS_WITH_AS(film.forward(h, Tensor::ones({2, 3})), doctest::Contains("FiLM"), cg::Error);
  Generator g2(10);
  FiLM f2(2, 3, g2);
  Generator r(1);
  f2.gamma->weight.copy_(r.normal({3, 2}));
  f2.beta->weight.copy_(r.normal({3, 2}));
  Tensor cond = random_input({4, 2}, 5, 1, 0, false);
  f2.to(DType::F64);
  std::vector<Tensor> inputs{random_input({4, 3}, 4), cond.to(DType::F64).set_requires_grad(true)};
  for (auto& [n, p] : f2.named_parameters()) inputs.push_back(p);
  CHECK_GRADIENTS([&](const std::vector<Tensor>& in) { return f2.forward(in[0], in[1]); }, inputs);
}

TEST_CASE("nn core layers: CUDA matches the CPU") {
  if (!cg::test::cuda_ready("nn core layers")) return;
  const cg::test::ExactFloat32 exact;  // the GEMMs are compared with the CPU's
  Generator gen(12);
  MLPConfig c;
  c.widths = {20, 16, 8};
  c.activation = Activation::LeakyReLU;
  c.batch_norm = true;
  c.layer_norm = true;
  auto cpu = make_mlp(c, gen, nullptr);
  Generator gen2(12);
  auto gpu = make_mlp(c, gen2, nullptr);
  gpu->to(Device::CUDA);
  Tensor x = random_input({33, 20}, 6, 1, 0, false).to(DType::F32);
  const auto a = cpu->forward(x).to_vector<double>();
  const auto b = gpu->forward(x.to(Device::CUDA)).to_vector<double>();
  CHECK(cg::test::max_rel_diff(a, b) < 1e-5);
}
