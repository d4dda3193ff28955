// Losses (nn/losses.h): values against references, finite-difference gradients in double for
// every differentiable input, CUDA parity, and bad inputs.
//
// Reference numbers marked "torch" were computed once with /usr/bin/python3 (Debian
// python3-torch) in float64: torch.nn.functional.binary_cross_entropy,
// binary_cross_entropy_with_logits and cross_entropy (with weight=), scvi-tools'
// log_nb_positive / log_zinb_positive written out in torch (eps 1e-8), SimCLR's NT-Xent as
// F.cross_entropy over the 2N x 2N cosine/temperature matrix with the diagonal at -inf.
// Digamma values are scipy.special.digamma.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/unary_math.h"
#include "nn/losses.h"
#include "tests/op_check.h"

using namespace cg;
using cg::nn::Reduction;
using cg::test::positive_input;
using cg::test::random_input;

namespace {

Tensor f64(const std::vector<double>& v, const Shape& s, bool requires_grad = false) {
  Tensor t = Tensor::from_vector(v, s);
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

void check_values(const Tensor& t, const std::vector<double>& expected, double eps = 1e-12) {
  const auto got = t.to_vector<double>();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(got[i] == doctest::Approx(expected[i]).epsilon(eps));
  }
}

// Shared small inputs (the same as in the torch reference script).
const std::vector<double> kProb = {0.2, 0.9, 0.5, 0.7, 0.01, 0.999};
const std::vector<double> kBinTarget = {0.0, 1.0, 1.0, 0.3, 0.0, 1.0};
const std::vector<double> kLogits2x3 = {-1.5, 0.3, 2.0, 40.0, -60.0, 0.0};
const std::vector<double> kCeLogits = {1.0, 2.0, 0.5, 0.1, -1.0, 3.0, 2.0, 2.0, 2.0, -0.5, 0.0, 1.5};
const std::vector<int32_t> kCeLabels = {1, 2, 0, 0};
const std::vector<double> kCeWeights = {0.5, 2.0, 1.25};
const std::vector<double> kCounts = {0, 3, 1, 7, 2, 0, 0, 12, 5, 1, 0, 0};
const std::vector<double> kMu = {0.5, 2.5, 1.2, 6.0, 1.5, 0.3, 0.8, 9.0, 4.0, 1.1, 0.2, 0.7};
const std::vector<double> kTheta = {0.8, 2.0, 5.0, 1.3};
const std::vector<double> kPi = {-1.0, 0.5, 2.0, -3.0, 0.0, 1.5, -0.5, 0.2, -2.0, -0.1, 0.7, 1.0};

// A generator re-created on every call, so gradcheck's many evaluations draw the same negatives.
Tensor unitednet_fixed(const std::vector<Tensor>& latents, const Tensor& labels, double fraction = 0.25) {
  Generator gen(42);
  return nn::unitednet_contrastive(latents, labels, gen, 0.1, fraction);
}

}  // namespace

// ---- lgamma / digamma ---------------------------------------------------------------------------

TEST_CASE("lgamma: derivative is digamma at reference values (recurrence, series, reflection)") {
  const std::vector<std::pair<double, double>> ref = {
      {1.0, -0.5772156649015329}, {0.5, -1.9635100260214235},  {10.0, 2.251752589066721}, {0.01, -100.56088545786868},
      {3.7, 1.1671535393615113},  {-0.5, 0.03648997397857651}, {-2.3, 3.3173231575618236}};
  for (const auto& [x, psi] : ref) {
    INFO("x = " << x);
    CHECK(kernels::digamma<double>(x) == doctest::Approx(psi).epsilon(1e-12));
    CHECK(kernels::digamma<float>(static_cast<float>(x)) == doctest::Approx(psi).epsilon(1e-5));
  }
  CHECK(std::isnan(kernels::digamma<double>(0.0)));
  CHECK(std::isnan(kernels::digamma<double>(-3.0)));
  // Through the op: d/dx sum(lgamma(x)) = digamma(x).
  Tensor x = f64({1.0, 0.5, 10.0, 3.7}, {4}, true);
  sum(lgamma(x)).backward();
  check_values(x.grad(), {ref[0].second, ref[1].second, ref[2].second, ref[4].second}, 1e-12);
}

// ---- MSE, BCE, LSGAN --------------------------------------------------------------------------------

TEST_CASE("mse_loss: values for each reduction and gradients") {
  // diffs 0.5, -1, 2, 0, -0.25, 1.5 -> squares .25 1 4 0 .0625 2.25, sum 7.5625
  Tensor pred = f64({1.5, 0.0, 3.0, -1.0, 0.75, 2.5}, {2, 3});
  Tensor target = f64({1.0, 1.0, 1.0, -1.0, 1.0, 1.0}, {2, 3});
  check_values(nn::mse_loss(pred, target), {7.5625 / 6});
  check_values(nn::mse_loss(pred, target, Reduction::Sum), {7.5625});
  Tensor none = nn::mse_loss(pred, target, Reduction::None);
  CHECK(none.shape() == Shape{2, 3});
  check_values(none, {0.25, 1.0, 4.0, 0.0, 0.0625, 2.25});
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    CHECK_GRADIENTS([r](const std::vector<Tensor>& in) { return nn::mse_loss(in[0], in[1], r); },
                    (std::vector<Tensor>{random_input({3, 4}, 1), random_input({3, 4}, 2)}));
  }
  cg::test::check_cuda_parity("mse_loss", [](const std::vector<Tensor>& in) { return nn::mse_loss(in[0], in[1]); },
                              {random_input({33, 17}, 3), random_input({33, 17}, 4)});
}

TEST_CASE("bce_loss: torch values, saturation stays finite, gradients") {
  Tensor prob = f64(kProb, {2, 3}), target = f64(kBinTarget, {2, 3});
  check_values(nn::bce_loss(prob, target), {0.3304142549881402});  // torch
  check_values(nn::bce_loss(prob, target, Reduction::None),
               {0.2231435513142097, 0.10536051565782628, 0.6931471805599453, 0.9497834462097748, 0.01005033585350145,
                0.0010005003335835344});  // torch
  // p exactly 0 or 1: the clamped log gives -log(1e-7) for a wrong certain answer, 0 for a right
  // one, and a finite gradient (PyTorch clamps the log at -100 instead; same intent).
  Tensor edge = f64({0.0, 1.0, 0.0, 1.0}, {4}, true);
  Tensor edge_t = f64({0.0, 1.0, 1.0, 0.0}, {4});
  Tensor l = nn::bce_loss(edge, edge_t, Reduction::None);
  check_values(l, {0.0, 0.0, -std::log(nn::kBceEps), -std::log(nn::kBceEps)}, 1e-9);
  sum(l).backward();
  for (double g : edge.grad().to_vector<double>()) CHECK(std::isfinite(g));
  // float32 agrees
  check_values(nn::bce_loss(prob.to(DType::F32), target.to(DType::F32)), {0.3304142549881402}, 1e-6);
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return nn::bce_loss(in[0], in[1]); },
                  (std::vector<Tensor>{positive_input({3, 4}, 5, 0.05, 0.95), positive_input({3, 4}, 6, 0.0, 1.0)}));
  cg::test::check_cuda_parity("bce_loss", [](const std::vector<Tensor>& in) { return nn::bce_loss(in[0], in[1]); },
                              {positive_input({33, 17}, 7, 0.05, 0.95), positive_input({33, 17}, 8, 0.0, 1.0)});
}

TEST_CASE("bce_with_logits_loss: torch values including |x| = 40, 60, gradients") {
  Tensor logits = f64(kLogits2x3, {2, 3}), target = f64(kBinTarget, {2, 3});
  check_values(nn::bce_with_logits_loss(logits, target), {4.9293072856757});                     // torch
  check_values(nn::bce_with_logits_loss(logits, target, Reduction::Sum), {29.575843714054198});  // torch
  check_values(nn::bce_with_logits_loss(logits, target, Reduction::None),
               {0.20141327798275246, 0.554355244468527, 0.1269280110429726, 28.0, 0.0, 0.6931471805599453},
               1e-12);  // torch (softplus(-60) = 9e-27 prints as 0)
  // float32 with large logits stays finite and exact
  check_values(nn::bce_with_logits_loss(logits.to(DType::F32), target.to(DType::F32), Reduction::Sum),
               {29.575843714054198}, 1e-6);
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return nn::bce_with_logits_loss(in[0], in[1]); },
                  (std::vector<Tensor>{random_input({3, 4}, 9, 2.0), positive_input({3, 4}, 10, 0.0, 1.0)}));
  cg::test::check_cuda_parity("bce_with_logits_loss",
                              [](const std::vector<Tensor>& in) { return nn::bce_with_logits_loss(in[0], in[1]); },
                              {random_input({33, 17}, 11, 3.0), positive_input({33, 17}, 12, 0.0, 1.0)});
}

TEST_CASE("lsgan losses: hand values and gradients") {
  // real [0.9, 0.4, 1.2]: (0.01 + 0.36 + 0.04) / 3 = 0.41/3; fake [0.1, -0.3]: (0.01 + 0.09) / 2 = 0.05
  Tensor real = f64({0.9, 0.4, 1.2}, {3, 1}), fake = f64({0.1, -0.3}, {2, 1});
  check_values(nn::lsgan_discriminator_loss(real, fake), {0.41 / 3 + 0.05});
  // generator: ((0.9)^2 + (1.3)^2) / 2 = (0.81 + 1.69) / 2 = 1.25
  check_values(nn::lsgan_generator_loss(fake), {1.25});
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return nn::lsgan_discriminator_loss(in[0], in[1]); },
                  (std::vector<Tensor>{random_input({5, 1}, 13), random_input({4, 1}, 14)}));
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return nn::lsgan_generator_loss(in[0]); },
                  (std::vector<Tensor>{random_input({5, 1}, 15)}));
  cg::test::check_cuda_parity("lsgan_discriminator_loss",
                              [](const std::vector<Tensor>& in) { return nn::lsgan_discriminator_loss(in[0], in[1]); },
                              {random_input({64, 1}, 16), random_input({40, 1}, 17)});
  cg::test::check_cuda_parity("lsgan_generator_loss",
                              [](const std::vector<Tensor>& in) { return nn::lsgan_generator_loss(in[0]); },
                              {random_input({64, 1}, 18)});
}

// ---- classification ------------------------------------------------------------------------------------

TEST_CASE("cross_entropy: torch values with and without class weights, gradients") {
  Tensor logits = f64(kCeLogits, {4, 3});
  Tensor labels = Tensor::from_indices(kCeLabels);
  Tensor weights = f64(kCeWeights, {3});
  check_values(nn::cross_entropy(logits, labels), {0.9850277509914231});                           // torch
  check_values(nn::cross_entropy(logits, labels, weights), {0.6399269040859136});                  // torch
  check_values(nn::cross_entropy(logits, labels, weights, Reduction::Sum), {2.7196893423651325});  // torch
  Tensor none = nn::cross_entropy(logits, labels, weights, Reduction::None);
  CHECK(none.shape() == Shape{4});
  check_values(none, {0.9287375682158898, 0.08846777370061415, 0.5493061443340549, 1.1531778561145734});  // torch
  // The weighted mean divides by sum_i w[y_i] = 2 + 1.25 + 0.5 + 0.5 = 4.25, not by N.
  check_values(nn::cross_entropy(logits, labels, weights), {2.7196893423651325 / 4.25});
  // float32 weights work with float64 logits (they are read as constants)
  check_values(nn::cross_entropy(logits.to(DType::F32), labels, weights.to(DType::F32)), {0.6399269040859136}, 1e-6);

  const Tensor w = weights;
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    CHECK_GRADIENTS([=](const std::vector<Tensor>& in) { return nn::cross_entropy(in[0], in[1], w, r); },
                    (std::vector<Tensor>{random_input({4, 3}, 19, 2.0), labels}));
  }
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return nn::cross_entropy(in[0], in[1]); },
                  (std::vector<Tensor>{random_input({4, 3}, 20, 2.0), labels}));

  std::vector<int32_t> many(50);
  for (int i = 0; i < 50; ++i) many[i] = (i * 7) % 6;
  cg::test::check_cuda_parity(
      "cross_entropy (weighted)", [](const std::vector<Tensor>& in) { return nn::cross_entropy(in[0], in[1], in[2]); },
      {random_input({50, 6}, 21, 2.0), Tensor::from_indices(many), f64({0.5, 1, 2, 0.25, 1.5, 1}, {6})});
}

TEST_CASE("balanced_class_weights: n / (K n_k), absent classes get 0") {
  // n = 6, K = 4, counts 3, 1, 2, 0 -> 6/12, 6/4, 6/8, 0
  Tensor w = nn::balanced_class_weights(Tensor::from_indices({0, 2, 0, 1, 2, 0}), 4);
  CHECK(w.shape() == Shape{4});
  CHECK(w.dtype() == DType::F32);
  check_values(w, {0.5, 1.5, 0.75, 0.0});
  // With balanced weights every present class contributes equally to the weighted mean: the
  // loss equals the average over classes of each class's mean loss.
  Tensor labels = Tensor::from_indices({0, 0, 0, 1});
  Tensor logits = f64({1, 0, 0.5, -1, 2, 2, 0, 1}, {4, 2});
  Tensor per = nn::cross_entropy(logits, labels, Tensor(), Reduction::None);
  const auto p = per.to_vector<double>();
  const double class_avg = 0.5 * ((p[0] + p[1] + p[2]) / 3 + p[3]);
  check_values(nn::cross_entropy(logits, labels, nn::balanced_class_weights(labels, 2)), {class_avg}, 1e-7);
}

// ---- VAE and count likelihoods --------------------------------------------------------------------------

TEST_CASE("gaussian_kl: hand values, per-unit variant, beta, gradients") {
  Tensor mu = f64({0.5, -1.0, 0.2, 0.0, 0.3, 1.5}, {2, 3});
  Tensor logvar = f64({0.1, -0.5, 0.0, 1.0, -2.0, 0.3}, {2, 3});
  // Row 0 by hand: -0.5 * [(1 + 0.1 - 0.25 - e^0.1) + (1 - 0.5 - 1 - e^-0.5) + (1 + 0 - 0.04 - 1)]
  const double row0 = -0.5 * ((1 + 0.1 - 0.25 - std::exp(0.1)) + (1 - 0.5 - 1 - std::exp(-0.5)) + (1 - 0.04 - 1));
  CHECK(row0 == doctest::Approx(0.7008507888941405).epsilon(1e-14));          // torch
  const std::vector<double> rows = {0.7008507888941405, 2.1217379596358303};  // torch
  check_values(nn::gaussian_kl(mu, logvar), {(rows[0] + rows[1]) / 2});
  check_values(nn::gaussian_kl(mu, logvar, 0.25), {0.25 * (rows[0] + rows[1]) / 2});
  check_values(nn::gaussian_kl(mu, logvar, 1.0, nn::KlUnits::Sum, Reduction::None), rows);
  check_values(nn::gaussian_kl(mu, logvar, 1.0, nn::KlUnits::Mean, Reduction::None),
               {0.23361692963138017, 0.7072459865452768});  // torch, mean over the 3 units
  check_values(nn::gaussian_kl(mu, logvar, 2.0, nn::KlUnits::Sum, Reduction::Sum), {2 * (rows[0] + rows[1])});
  // KL of the prior itself is 0
  check_values(nn::gaussian_kl(Tensor::zeros({3, 2}, DType::F64), Tensor::zeros({3, 2}, DType::F64)), {0.0});
  for (nn::KlUnits u : {nn::KlUnits::Sum, nn::KlUnits::Mean}) {
    CHECK_GRADIENTS([u](const std::vector<Tensor>& in) { return nn::gaussian_kl(in[0], in[1], 0.7, u); },
                    (std::vector<Tensor>{random_input({4, 3}, 22), random_input({4, 3}, 23)}));
  }
  cg::test::check_cuda_parity("gaussian_kl",
                              [](const std::vector<Tensor>& in) { return nn::gaussian_kl(in[0], in[1], 0.5); },
                              {random_input({40, 10}, 24), random_input({40, 10}, 25)});
}

TEST_CASE("nb_nll and zinb_nll: scVI values, row or full theta, gradients") {
  Tensor x = f64(kCounts, {3, 4}), mu = f64(kMu, {3, 4}), theta = f64(kTheta, {4}), pi = f64(kPi, {3, 4});
  const std::vector<double> nb = {6.392865947522344, 6.490060473577641, 4.810203532679978};     // torch (scVI)
  const std::vector<double> zinb = {9.422324845333577, 7.399899166762472, 5.0088431653530865};  // torch (scVI)
  check_values(nn::nb_nll(x, mu, theta, Reduction::None), nb, 1e-12);
  check_values(nn::nb_nll(x, mu, theta), {5.8977099845933205}, 1e-12);
  check_values(nn::nb_nll(x, mu, theta, Reduction::Sum), {nb[0] + nb[1] + nb[2]}, 1e-12);
  check_values(nn::zinb_nll(x, mu, theta, pi, Reduction::None), zinb, 1e-12);
  check_values(nn::zinb_nll(x, mu, theta, pi), {7.277022392483045}, 1e-12);
  // theta as [1, G] and as the full [N, G] matrix give the same numbers
  check_values(nn::nb_nll(x, mu, f64(kTheta, {1, 4}), Reduction::None), nb, 1e-12);
  std::vector<double> full;
  for (int i = 0; i < 3; ++i) full.insert(full.end(), kTheta.begin(), kTheta.end());
  check_values(nn::zinb_nll(x, mu, f64(full, {3, 4}), pi, Reduction::None), zinb, 1e-12);
  // float32
  check_values(nn::zinb_nll(x.to(DType::F32), mu.to(DType::F32), theta.to(DType::F32), pi.to(DType::F32)),
               {7.277022392483045}, 1e-5);

  // Gradients w.r.t. mu, theta (row) and pi; the counts are data.
  CHECK_GRADIENTS([x](const std::vector<Tensor>& in) { return nn::nb_nll(x, in[0], in[1]); },
                  (std::vector<Tensor>{positive_input({3, 4}, 26, 0.3, 5.0), positive_input({4}, 27, 0.4, 3.0)}));
  CHECK_GRADIENTS([x](const std::vector<Tensor>& in) { return nn::zinb_nll(x, in[0], in[1], in[2]); },
                  (std::vector<Tensor>{positive_input({3, 4}, 28, 0.3, 5.0), positive_input({4}, 29, 0.4, 3.0),
                                       random_input({3, 4}, 30)}));
  // Gradient of log_theta through theta = exp(log_theta), the usual parameterisation.
  CHECK_GRADIENTS([x](const std::vector<Tensor>& in) { return nn::nb_nll(x, in[0], cg::exp(in[1]), Reduction::None); },
                  (std::vector<Tensor>{positive_input({3, 4}, 31, 0.3, 5.0), random_input({1, 4}, 32, 0.5)}));

  std::vector<double> counts(64 * 30);
  for (size_t i = 0; i < counts.size(); ++i)
    counts[i] = static_cast<double>((i * 37 + i / 7) % 11 == 0 ? 0 : (i * 13) % 9);
  Tensor xc = f64(counts, {64, 30});
  xc.set_requires_grad(false);
  cg::test::check_cuda_parity("nb_nll", [](const std::vector<Tensor>& in) { return nn::nb_nll(in[0], in[1], in[2]); },
                              {xc, positive_input({64, 30}, 33, 0.3, 8.0), positive_input({30}, 34, 0.3, 4.0)});
  cg::test::check_cuda_parity(
      "zinb_nll", [](const std::vector<Tensor>& in) { return nn::zinb_nll(in[0], in[1], in[2], in[3]); },
      {xc, positive_input({64, 30}, 35, 0.3, 8.0), positive_input({30}, 36, 0.3, 4.0), random_input({64, 30}, 37)});
}

TEST_CASE("nb_nll and zinb_nll: probabilities over all counts sum to 1") {
  // One gene, mean 3, theta 0.7: P(x) = exp(-nll(x)) summed over x = 0..400 (tail < 1e-30).
  const int kMax = 400;
  std::vector<double> xs(kMax + 1);
  for (int k = 0; k <= kMax; ++k) xs[k] = k;
  Tensor x = f64(xs, {kMax + 1, 1});
  Tensor mu = Tensor::full({kMax + 1, 1}, 3.0, DType::F64);
  Tensor theta = Tensor::full({1}, 0.7, DType::F64);
  Tensor pi = Tensor::full({kMax + 1, 1}, 0.4, DType::F64);  // logit: dropout prob sigmoid(0.4)
  const auto nb = nn::nb_nll(x, mu, theta, Reduction::None).to_vector<double>();
  const auto zinb = nn::zinb_nll(x, mu, theta, pi, Reduction::None).to_vector<double>();
  double total_nb = 0, total_zinb = 0;
  for (int k = 0; k <= kMax; ++k) {
    total_nb += std::exp(-nb[k]);
    total_zinb += std::exp(-zinb[k]);
  }
  CHECK(total_nb == doctest::Approx(1.0).epsilon(1e-7));
  CHECK(total_zinb == doctest::Approx(1.0).epsilon(1e-7));
  // Closed forms: NB(0) = (theta / (theta + mu))^theta; ZINB(0) = pi + (1 - pi) NB(0).
  const double nb0 = std::pow(0.7 / 3.7, 0.7), drop = 1 / (1 + std::exp(-0.4));
  CHECK(std::exp(-nb[0]) == doctest::Approx(nb0).epsilon(1e-7));
  CHECK(std::exp(-zinb[0]) == doctest::Approx(drop + (1 - drop) * nb0).epsilon(1e-7));
  CHECK(std::exp(-zinb[5]) == doctest::Approx((1 - drop) * std::exp(-nb[5])).epsilon(1e-7));
}

// ---- contrastive ------------------------------------------------------------------------------------------------

TEST_CASE("nt_xent: torch value on 2 pairs, hand value on orthogonal pairs, gradients") {
  Tensor z1 = f64({1.0, 0.0, 0.5, 0.2, 1.0, -0.3}, {2, 3});
  Tensor z2 = f64({0.8, 0.1, 0.4, -0.5, 0.9, 0.0}, {2, 3});
  check_values(nn::nt_xent(z1, z2, 0.5), {0.26396710872976015});  // torch
  check_values(nn::info_nce(z1, z2, 0.5), {0.26396710872976015});
  // Pairs identical, different pairs orthogonal: every row has s_pos = 1/T and two
  // negatives with s = 0, so loss = -log(e^(1/T) / (e^(1/T) + 2)) = log(1 + 2 e^(-1/T)).
  Tensor a = f64({3.0, 0.0, 0.0, 2.0}, {2, 2}), b = f64({1.0, 0.0, 0.0, 5.0}, {2, 2});
  check_values(nn::nt_xent(a, b, 0.25), {std::log1p(2 * std::exp(-4.0))});
  CHECK_GRADIENTS([](const std::vector<Tensor>& in) { return nn::nt_xent(in[0], in[1], 0.3); },
                  (std::vector<Tensor>{random_input({4, 3}, 38), random_input({4, 3}, 39)}));
  cg::test::check_cuda_parity("nt_xent", [](const std::vector<Tensor>& in) { return nn::nt_xent(in[0], in[1], 0.2); },
                              {random_input({24, 16}, 40), random_input({24, 16}, 41)});
}

TEST_CASE("unitednet_contrastive: hand values where the drawn negatives cannot matter") {
  // Cells 0, 1 are class 0 and share a direction; cell 2 is class 1 and orthogonal. Both
  // modalities agree. Every term: pos cosine 1, every allowed negative (a row of the other class)
  // cosine 0. Same-class rows (cosine 1) must be left out, or the loss would be far larger.
  Tensor m0 = f64({1, 0, 2, 0, 0, 1}, {3, 2}), m1 = f64({5, 0, 1, 0, 0, 3}, {3, 2});
  Tensor labels = Tensor::from_indices({0, 0, 1});
  Generator gen(1);
  // M N = 6 rows, fraction 0.25 -> 1 negative: -log(e^10 / (e^10 + e^0))
  check_values(nn::unitednet_contrastive({m0, m1}, labels, gen), {std::log1p(std::exp(-10.0))}, 1e-9);
  // fraction 1 -> 6 negatives (with replacement), temperature 0.5
  check_values(nn::unitednet_contrastive({m0, m1}, labels, gen, 0.5, 1.0), {std::log1p(6 * std::exp(-2.0))}, 1e-12);
  // Three modalities: M N = 9 -> floor(2.25) = 2 negatives; 3*2*3 = 18 terms, all alike.
  check_values(nn::unitednet_contrastive({m0, m1, m0}, labels, gen), {std::log1p(2 * std::exp(-10.0))}, 1e-9);
  // No negatives to draw: one modality, or one predicted class -> 0.
  check_values(nn::unitednet_contrastive({m0}, labels, gen), {0.0});
  check_values(nn::unitednet_contrastive({m0, m1}, Tensor::from_indices({2, 2, 2}), gen), {0.0});
}

TEST_CASE("unitednet_contrastive: matches a direct per-term computation with the same draws") {
  // Reference: the documented procedure in plain loops. Terms in order (a, b != a, i); each
  // draws `k` rows with gen.next_below over the rows (ascending) whose cell's class differs.
  const int64_t n = 5, d = 3, m = 3;
  const double temp = 0.1, fraction = 0.25;
  std::vector<Tensor> latents;
  for (int64_t j = 0; j < m; ++j) latents.push_back(random_input({n, d}, 50 + j, 1.0, 0.0, false));
  const std::vector<int32_t> cls = {0, 1, 0, 2, 1};
  std::vector<std::vector<double>> unit;  // normalised rows of the stacked latents
  for (const Tensor& l : latents) {
    const auto v = l.to_vector<double>();
    for (int64_t i = 0; i < n; ++i) {
      std::vector<double> r(v.begin() + i * d, v.begin() + (i + 1) * d);
      double norm = 0;
      for (double e : r) norm += e * e;
      for (double& e : r) e /= std::sqrt(norm);
      unit.push_back(r);
    }
  }
  auto s = [&](int64_t p, int64_t q) {
    double dot = 0;
    for (int64_t e = 0; e < d; ++e) dot += unit[p][e] * unit[q][e];
    return dot / temp;
  };
  const int64_t rows = m * n, k = static_cast<int64_t>(fraction * rows);
  Generator ref_gen(42);
  double total = 0;
  int64_t terms = 0;
  for (int64_t a = 0; a < m; ++a)
    for (int64_t b = 0; b < m; ++b) {
      if (a == b) continue;
      for (int64_t i = 0; i < n; ++i, ++terms) {
        std::vector<int64_t> pool;
        for (int64_t j = 0; j < rows; ++j)
          if (cls[j % n] != cls[i]) pool.push_back(j);
        const double pos = s(a * n + i, b * n + i);
        double denom = std::exp(pos);
        for (int64_t t = 0; t < k; ++t)
          denom += std::exp(s(a * n + i, pool[ref_gen.next_below(static_cast<uint32_t>(pool.size()))]));
        total += -(pos - std::log(denom));
      }
    }
  Tensor labels = Tensor::from_indices(cls);
  check_values(unitednet_fixed(latents, labels), {total / static_cast<double>(terms)}, 1e-10);

  // The generator decides the negatives: same seed, same loss; another seed, another loss.
  Generator g1(7), g2(7), g3(8);
  const double l1 = nn::unitednet_contrastive(latents, labels, g1).item();
  CHECK(nn::unitednet_contrastive(latents, labels, g2).item() == l1);
  CHECK(nn::unitednet_contrastive(latents, labels, g3).item() != l1);

  for (Tensor& l : latents) l.set_requires_grad(true);
  CHECK_GRADIENTS([labels](const std::vector<Tensor>& in) { return unitednet_fixed(in, labels); }, latents);
  CHECK_GRADIENTS(
      [labels](const std::vector<Tensor>& in) {
        return unitednet_fixed({in[0], in[1]}, labels, 0.6);
      },
      (std::vector<Tensor>{latents[0], latents[1]}));

  std::vector<int32_t> many(40);
  for (int i = 0; i < 40; ++i) many[i] = (i * 5) % 4;
  Tensor many_labels = Tensor::from_indices(many);
  cg::test::check_cuda_parity(
      "unitednet_contrastive",
      [many_labels](const std::vector<Tensor>& in) { return unitednet_fixed(in, many_labels.to(in[0].device())); },
      {random_input({40, 16}, 60), random_input({40, 16}, 61)});
}

// ---- divergence guard and bad inputs ------------------------------------------------------------------------

TEST_CASE("check_finite_loss names the term") {
  CHECK_NOTHROW(nn::check_finite_loss(f64({1.5}, {1}), "reconstruction"));
  CHECK_THROWS_WITH_AS(nn::check_finite_loss(f64({NAN}, {1}), "translation rna->adt"),
                       doctest::Contains("translation rna->adt"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::check_finite_loss(f64({1.0, INFINITY}, {2}), "kl"), doctest::Contains("'kl'"), cg::Error);
  // A NaN produced by a loss itself (log of a negative theta) is caught the same way.
  Tensor bad = nn::nb_nll(f64(kCounts, {3, 4}), f64(kMu, {3, 4}), f64({-0.5, 2.0, 5.0, 1.3}, {4}));
  CHECK_THROWS_WITH_AS(nn::check_finite_loss(bad, "nb"), doctest::Contains("nb"), cg::Error);
  CHECK_THROWS_AS(nn::check_finite_loss(Tensor(), "x"), cg::Error);
}

TEST_CASE("losses reject bad inputs with the loss name and what was found") {
  Tensor a23 = Tensor::zeros({2, 3}, DType::F64), a32 = Tensor::zeros({3, 2}, DType::F64);
  CHECK_THROWS_WITH_AS(nn::mse_loss(a23, a32), doctest::Contains("mse_loss': pred [2, 3] and target [3, 2]"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(nn::mse_loss(a23, Tensor::zeros({2, 3})), doctest::Contains("dtype"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::bce_loss(f64({0.5, 1.2}, {2}), f64({0, 1}, {2})), doctest::Contains("bce_loss"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::bce_loss(f64({-0.1, 0.2}, {2}), f64({0, 1}, {2})), doctest::Contains("[0, 1]"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::bce_with_logits_loss(a23, a32), doctest::Contains("bce_with_logits_loss"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::lsgan_generator_loss(Tensor::zeros({0, 1}, DType::F64)), doctest::Contains("empty"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(nn::lsgan_discriminator_loss(a23, Tensor::from_indices({1})), doctest::Contains("lsgan"),
                       cg::Error);

  Tensor logits = f64(kCeLogits, {4, 3});
  CHECK_THROWS_WITH_AS(nn::cross_entropy(logits, Tensor::from_indices({1, 3, 0, 0})),
                       doctest::Contains("label 3 at position 1 is outside [0, 3)"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::cross_entropy(logits, Tensor::from_indices({1, -1, 0, 0})), doctest::Contains("label -1"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(nn::cross_entropy(logits, Tensor::from_indices({1, 2})), doctest::Contains("int32 [4]"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(nn::cross_entropy(logits, f64({1, 2, 0, 0}, {4})), doctest::Contains("int32"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::cross_entropy(logits, Tensor::from_indices(kCeLabels), f64({1, 1}, {2})),
                       doctest::Contains("class_weights must be floating point [3]"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::cross_entropy(logits, Tensor::from_indices(kCeLabels), f64({1, -1, 1}, {3})),
                       doctest::Contains("class weight 1 is -1"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::cross_entropy(logits, Tensor::from_indices({1, 1, 1, 1}), f64({1, 0, 1}, {3})),
                       doctest::Contains("weight 0"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::cross_entropy(f64({1, 2, 3}, {3}), Tensor::from_indices({0})),
                       doctest::Contains("cross_entropy': logits must be rank 2"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::balanced_class_weights(Tensor::from_indices({0, 4}), 3),
                       doctest::Contains("balanced_class_weights': label 4"), cg::Error);
  CHECK_THROWS_AS(nn::balanced_class_weights(Tensor::from_indices({0}), 0), cg::Error);

  CHECK_THROWS_WITH_AS(nn::gaussian_kl(a23, a32), doctest::Contains("gaussian_kl': mu [2, 3] and logvar [3, 2]"),
                       cg::Error);

  Tensor x = f64(kCounts, {3, 4}), mu = f64(kMu, {3, 4}), theta = f64(kTheta, {4}), pi = f64(kPi, {3, 4});
  std::vector<double> negative = kCounts;
  negative[5] = -1;
  CHECK_THROWS_WITH_AS(nn::nb_nll(f64(negative, {3, 4}), mu, theta),
                       doctest::Contains("nb_nll': counts x must be >= 0, found a minimum of -1"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::zinb_nll(f64(negative, {3, 4}), mu, theta, pi), doctest::Contains("zinb_nll"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::nb_nll(x, mu, f64({1, 2, 3}, {3})), doctest::Contains("theta must be [4], [1, 4] or [3, 4]"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(nn::nb_nll(x, f64(kMu, {4, 3}), theta), doctest::Contains("x [3, 4] and mu [4, 3]"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::zinb_nll(x, mu, theta, f64(kTheta, {4})), doctest::Contains("pi_logits [4]"), cg::Error);

  CHECK_THROWS_WITH_AS(nn::nt_xent(a23, a32), doctest::Contains("nt_xent"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::nt_xent(a23, a23, 0.0), doctest::Contains("temperature"), cg::Error);
  Generator gen(0);
  Tensor labels = Tensor::from_indices({0, 1});
  CHECK_THROWS_WITH_AS(nn::unitednet_contrastive({}, labels, gen), doctest::Contains("no modality"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::unitednet_contrastive({a23, a32}, labels, gen), doctest::Contains("latent 1 [3, 2]"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(nn::unitednet_contrastive({a23, a23}, Tensor::from_indices({0, 1, 1}), gen),
                       doctest::Contains("int32 [2]"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::unitednet_contrastive({a23, a23}, labels, gen, 0.1, 0.0),
                       doctest::Contains("negative_fraction"), cg::Error);
}
