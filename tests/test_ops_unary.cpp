// Elementwise unary ops: hand-computed forward values, finite-difference gradients, CUDA parity.
#include <doctest/doctest.h>

#include <cmath>

#include "tests/op_check.h"

using namespace cg;
using cg::test::positive_input;
using cg::test::random_input;

namespace {
struct UnaryCase {
  const char* name;
  Tensor (*fn)(const Tensor&);
  double (*ref)(double);
  bool positive_domain;
  double kink_shift;  // keep random inputs this far from a kink at 0
};
Tensor leaky(const Tensor& x) { return leaky_relu(x, 0.2); }
Tensor elu2(const Tensor& x) { return elu(x, 1.5); }
Tensor pow3(const Tensor& x) { return pow(x, 2.5); }
Tensor clamp1(const Tensor& x) { return clamp(x, -0.5, 0.7); }
Tensor addc(const Tensor& x) { return add_scalar(x, 1.25); }
Tensor mulc(const Tensor& x) { return mul_scalar(x, -3.0); }

const UnaryCase kCases[] = {
    {"relu", relu, [](double x) { return x > 0 ? x : 0.0; }, false, 0.05},
    {"leaky_relu", leaky, [](double x) { return x > 0 ? x : 0.2 * x; }, false, 0.05},
    {"elu", elu2, [](double x) { return x > 0 ? x : 1.5 * (std::exp(x) - 1); }, false, 0.05},
    {"sigmoid", sigmoid, [](double x) { return 1 / (1 + std::exp(-x)); }, false, 0},
    {"tanh", cg::tanh, [](double x) { return std::tanh(x); }, false, 0},
    {"softplus", softplus, [](double x) { return std::log1p(std::exp(x)); }, false, 0},
    {"exp", cg::exp, [](double x) { return std::exp(x); }, false, 0},
    {"log", cg::log, [](double x) { return std::log(x); }, true, 0},
    {"square", square, [](double x) { return x * x; }, false, 0},
    {"sqrt", cg::sqrt, [](double x) { return std::sqrt(x); }, true, 0},
    {"pow", pow3, [](double x) { return std::pow(x, 2.5); }, true, 0},
    {"abs", cg::abs, [](double x) { return std::fabs(x); }, false, 0.05},
    {"clamp", clamp1, [](double x) { return std::min(0.7, std::max(-0.5, x)); }, false, 0.05},
    {"neg", neg, [](double x) { return -x; }, false, 0},
    {"lgamma", cg::lgamma, [](double x) { return std::lgamma(x); }, true, 0},
    {"add_scalar", addc, [](double x) { return x + 1.25; }, false, 0},
    {"mul_scalar", mulc, [](double x) { return -3.0 * x; }, false, 0},
};
}  // namespace

TEST_CASE("unary ops: forward matches the formula on hand-picked values") {
  const std::vector<double> xs = {-2.0, -0.3, 0.4, 1.7, 3.0};
  const std::vector<double> pos = {0.1, 0.5, 1.0, 2.0, 9.0};
  for (const auto& c : kCases) {
    INFO(c.name);
    const auto& v = c.positive_domain ? pos : xs;
    Tensor x = Tensor::from_vector(v, {5});
    const auto y = c.fn(x).to_vector<double>();
    for (size_t i = 0; i < v.size(); ++i) CHECK(y[i] == doctest::Approx(c.ref(v[i])).epsilon(1e-12));
    // float32 path agrees with the double path
    const auto y32 = c.fn(x.to(DType::F32)).to_vector<double>();
    for (size_t i = 0; i < v.size(); ++i) CHECK(y32[i] == doctest::Approx(c.ref(v[i])).epsilon(1e-5));
  }
  // softplus and sigmoid stay finite far out in both tails
  Tensor big = Tensor::from_vector(std::vector<float>{-200.f, 200.f}, {2});
  const auto sp = softplus(big).to_vector<double>();
  CHECK(sp[0] == doctest::Approx(0.0));
  CHECK(sp[1] == doctest::Approx(200.0));
  const auto sg = sigmoid(big).to_vector<double>();
  CHECK(sg[0] == doctest::Approx(0.0));
  CHECK(sg[1] == doctest::Approx(1.0));
}

TEST_CASE("unary ops: backward matches finite differences in double precision") {
  uint64_t seed = 100;
  for (const auto& c : kCases) {
    INFO(c.name);
    Tensor x = c.positive_domain ? positive_input({4, 5}, seed++) : random_input({4, 5}, seed++, 1.0, c.kink_shift);
    // clamp: keep inputs off the two bounds as well
    if (std::string(c.name) == "clamp") {
      double* p = x.data<double>();
      for (int i = 0; i < 20; ++i)
        if (std::fabs(p[i] + 0.5) < 0.05 || std::fabs(p[i] - 0.7) < 0.05) p[i] += 0.12;
    }
    auto fn = c.fn;
    CHECK_GRADIENTS([fn](const std::vector<Tensor>& in) { return fn(in[0]); }, std::vector<Tensor>{x});
  }
}

TEST_CASE("unary ops: CUDA forward and backward match the CPU") {
  uint64_t seed = 300;
  for (const auto& c : kCases) {
    Tensor x = c.positive_domain ? positive_input({33, 70}, seed++) : random_input({33, 70}, seed++, 1.0, c.kink_shift);
    auto fn = c.fn;
    cg::test::check_cuda_parity(c.name, [fn](const std::vector<Tensor>& in) { return fn(in[0]); }, {x});
  }
}

TEST_CASE("unary ops: bad calls name the op") {
  Tensor idx = Tensor::from_indices({1, 2});
  CHECK_THROWS_WITH_AS(relu(idx), doctest::Contains("relu"), cg::Error);
  CHECK_THROWS_WITH_AS(clamp(Tensor::ones({2}), 1.0, 0.0), doctest::Contains("clamp"), cg::Error);
  CHECK_THROWS_AS(relu(Tensor()), cg::Error);
}
