// MaskedLinear, Fuser, ClusterHead, PathwayAttention: forwards against hand/naive references,
// finite-difference gradients in float64 w.r.t. inputs and parameters, the masking guarantees
// (exact zeros, no NaN), initial states, shape errors, CUDA parity.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "autograd/optim.h"
#include "nn/cluster_head.h"
#include "nn/fuser.h"
#include "nn/masked_linear.h"
#include "nn/pathway_attention.h"
#include "tests/op_check.h"

using namespace cg;
using cg::test::check_cuda_parity;
using cg::test::random_input;

namespace {
using V = std::vector<double>;

Tensor mat(V v, Shape s) { return Tensor::from_vector(v, s); }

// A [rows, cols] 0/1 mask from a predicate.
Tensor make_mask(int64_t rows, int64_t cols, const std::function<bool(int64_t, int64_t)>& on) {
  V v(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) v[static_cast<size_t>(r * cols + c)] = on(r, c) ? 1.0 : 0.0;
  return Tensor::from_vector(std::vector<float>(v.begin(), v.end()), {rows, cols});
}

// Swaps a module's member tensors for the given ones during a call (so check_cuda_parity's
// per-device input copies act as the parameters and receive their gradients), then restores.
struct MemberSwap {
  std::vector<Tensor*> members;
  std::vector<Tensor> saved;
  MemberSwap(std::vector<Tensor*> m, const std::vector<Tensor>& with) : members(std::move(m)) {
    for (size_t i = 0; i < members.size(); ++i) {
      saved.push_back(*members[i]);
      *members[i] = with[i];
    }
  }
  ~MemberSwap() {
    for (size_t i = 0; i < members.size(); ++i) *members[i] = saved[i];
  }
};

bool all_finite(const Tensor& t) {
  for (double v : t.to_vector<double>())
    if (!std::isfinite(v)) return false;
  return true;
}
}  // namespace

// ================================ MaskedLinear ===================================================

TEST_CASE("MaskedLinear: masked weights start at zero, forward is x (W*M)^T + b") {
  Generator gen(1);
  // 3 sets over 4 genes; set 2 is empty.
  Tensor m = make_mask(3, 4, [](int64_t s, int64_t g) { return s == 0 ? g < 2 : s == 1 ? g % 2 == 1 : false; });
  nn::MaskedLinear layer(4, 3, m, gen);
  const auto w = layer.weight.to_vector<double>(), mv = m.to_vector<double>();
  int zeros = 0, nonzeros = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    if (mv[i] == 0) {
      CHECK(w[i] == 0.0);
      ++zeros;
    } else {
      nonzeros += w[i] != 0.0;
    }
  }
  CHECK(zeros == 8);
  CHECK(nonzeros == 4);  // the init draws are not zero where the mask is on
  CHECK(layer.named_parameters().size() == 2);
  REQUIRE(layer.named_buffers().size() == 1);
  CHECK(layer.named_buffers()[0].first == "mask");

  layer.to(DType::F64);
  Tensor x = mat({1, 2, 3, 4, -1, 0.5, 2, -3}, {2, 4});
  const Tensor y = layer.forward(x);
  const auto wv = layer.weight.to_vector<double>(), b = layer.bias.to_vector<double>(), xv = x.to_vector<double>();
  const auto yv = y.to_vector<double>();
  REQUIRE(y.shape() == Shape{2, 3});
  for (int n = 0; n < 2; ++n)
    for (int s = 0; s < 3; ++s) {
      double e = b[s];
      for (int g = 0; g < 4; ++g) e += xv[n * 4 + g] * wv[s * 4 + g] * mv[s * 4 + g];
      CHECK(yv[n * 3 + s] == doctest::Approx(e).epsilon(1e-12));
    }
  // The empty set's output is its bias alone.
  CHECK(yv[2] == doctest::Approx(b[2]).epsilon(1e-14));
  CHECK(yv[5] == doctest::Approx(b[2]).epsilon(1e-14));
}

TEST_CASE("MaskedLinear: gradients w.r.t. input, weight and bias; masked weights get exactly zero") {
  Generator gen(2);
  Tensor m = make_mask(3, 5, [](int64_t s, int64_t g) { return (s + g) % 3 != 0; });
  nn::MaskedLinear layer(5, 3, m, gen);
  layer.to(DType::F64);
  Tensor x = random_input({4, 5}, 3);
  CHECK_GRADIENTS([&](const std::vector<Tensor>& in) { return layer.forward(in[0]); },
                  (std::vector<Tensor>{x, layer.weight, layer.bias}));

  layer.zero_grad();
  sum(square(layer.forward(x))).backward();
  const auto g = layer.weight.grad().to_vector<double>(), mv = layer.mask.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    if (mv[i] == 0) CHECK(g[i] == 0.0);
    else CHECK(g[i] != 0.0);
  }
  // A layer without bias has only the weight.
  nn::MaskedLinear no_bias(5, 3, m, gen, nn::Init::XavierUniform, false);
  CHECK(no_bias.named_parameters().size() == 1);
  CHECK(!no_bias.bias.defined());
}

TEST_CASE("MaskedLinear: masked weights stay exactly zero after 100 Adam steps") {
  Generator gen(4);
  Tensor m = make_mask(6, 10, [](int64_t s, int64_t g) { return g / 2 == s || g == 9; });
  nn::MaskedLinear layer(10, 6, m, gen);
  const auto w0 = layer.weight.to_vector<double>();
  Tensor x = gen.normal({32, 10}), target = gen.normal({32, 6});
  // L2 weight decay is added to the gradient: 0 for a zero weight, so it cannot move it either.
  AdamOptions opt;
  opt.lr = 0.01;
  opt.weight_decay = 0.01;
  Adam adam(layer.parameters(), opt);
  double first_loss = 0, last_loss = 0;
  for (int step = 0; step < 100; ++step) {
    adam.zero_grad();
    Tensor loss = mean(square(layer.forward(x) - target));
    loss.backward();
    adam.step();
    (step == 0 ? first_loss : last_loss) = loss.item();
  }
  CHECK(last_loss < first_loss);
  const auto w = layer.weight.to_vector<double>(), mv = m.to_vector<double>();
  int moved = 0, unmasked = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    if (mv[i] == 0) {
      CHECK(w[i] == 0.0);
    } else {
      ++unmasked;
      moved += w[i] != w0[i];
    }
  }
  CHECK(unmasked == 15);
  CHECK(moved == unmasked);  // every unmasked weight was trained
}

TEST_CASE("MaskedLinear: bad masks and inputs throw naming the layer and the shapes") {
  Generator gen(5);
  CHECK_THROWS_WITH_AS(nn::MaskedLinear(4, 3, Tensor::ones({4, 3}), gen), doctest::Contains("MaskedLinear(4 -> 3)"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(nn::MaskedLinear(4, 3, Tensor::ones({4, 3}), gen), doctest::Contains("[4, 3]"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::MaskedLinear(4, 3, Tensor::ones({4, 3}), gen), doctest::Contains("[3, 4]"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::MaskedLinear(4, 3, Tensor::full({3, 4}, 0.5), gen), doctest::Contains("only 0 and 1"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(nn::MaskedLinear(4, 3, Tensor(), gen), doctest::Contains("MaskedLinear"), cg::Error);
  // An int32 or float64 0/1 mask is accepted and stored as float32.
  nn::MaskedLinear ok(4, 3, Tensor::ones({3, 4}, DType::F64), gen);
  CHECK(ok.mask.dtype() == DType::F32);
  CHECK_THROWS_WITH_AS(ok.forward(Tensor::ones({2, 5})), doctest::Contains("MaskedLinear(4 -> 3)"), cg::Error);
  CHECK_THROWS_WITH_AS(ok.forward(Tensor::ones({2, 5})), doctest::Contains("[2, 5]"), cg::Error);
}

TEST_CASE("MaskedLinear: CUDA parity") {
  Generator gen(6);
  Tensor m = make_mask(3, 5, [](int64_t s, int64_t g) { return (s * g) % 2 == 0; });
  nn::MaskedLinear layer(5, 3, m, gen);
  check_cuda_parity("MaskedLinear",
                    [&](const std::vector<Tensor>& in) {
                      layer.to(in[0].device());
                      MemberSwap swap({&layer.weight, &layer.bias}, {in[1], in[2]});
                      return layer.forward(in[0]);
                    },
                    {random_input({4, 5}, 7), layer.weight.to(DType::F64).set_requires_grad(true),
                     layer.bias.to(DType::F64).set_requires_grad(true)});
}

// ================================ Fuser ==========================================================

TEST_CASE("Fuser: starts as the plain mean of the modalities") {
  nn::Fuser fuser(3, 4);
  const auto w = fuser.modality_weights().to_vector<double>();
  REQUIRE(w.size() == 3);
  for (double v : w) CHECK(v == doctest::Approx(1.0 / 3).epsilon(1e-7));
  fuser.to(DType::F64);
  Tensor a = random_input({2, 4}, 1, 1.0, 0.0, false), b = random_input({2, 4}, 2, 1.0, 0.0, false),
         c = random_input({2, 4}, 3, 1.0, 0.0, false);
  const auto z = fuser.forward({a, b, c}).to_vector<double>();
  const auto av = a.to_vector<double>(), bv = b.to_vector<double>(), cv = c.to_vector<double>();
  for (size_t i = 0; i < z.size(); ++i) CHECK(z[i] == doctest::Approx((av[i] + bv[i] + cv[i]) / 3).epsilon(1e-12));
}

TEST_CASE("Fuser: softmax-weighted sum by hand and gradients w.r.t. latents and weights") {
  nn::Fuser fuser(2, 3);
  fuser.to(DType::F64);
  fuser.weight.copy_(mat({0.0, std::log(3.0)}, {2}));  // softmax = (1/4, 3/4)
  Tensor a = mat({1, 2, 3, 4, 5, 6}, {2, 3}), b = mat({-4, 0, 8, 4, 1, 2}, {2, 3});
  CHECK(fuser.forward({a, b}).to_vector<double>() == V{0.25 * 1 - 3, 0.5, 0.75 + 6, 1 + 3, 1.25 + 0.75, 1.5 + 1.5});

  fuser.weight.copy_(mat({0.3, -0.7}, {2}));
  CHECK_GRADIENTS(
      [&](const std::vector<Tensor>& in) {
        return fuser.forward({in[0], in[1]});
      },
      (std::vector<Tensor>{random_input({3, 3}, 4), random_input({3, 3}, 5), fuser.weight}));
}

TEST_CASE("Fuser: wrong count or shapes throw naming the layer") {
  nn::Fuser fuser(2, 3);
  CHECK_THROWS_WITH_AS(fuser.forward({Tensor::ones({2, 3})}), doctest::Contains("Fuser(2 modalities"), cg::Error);
  CHECK_THROWS_WITH_AS(fuser.forward({Tensor::ones({2, 3}), Tensor::ones({2, 4})}), doctest::Contains("[2, 4]"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(fuser.forward({Tensor::ones({2, 3}), Tensor::ones({3, 3})}), doctest::Contains("latent 1"),
                       cg::Error);
  CHECK_THROWS_AS(nn::Fuser(0, 3), cg::Error);
}

TEST_CASE("Fuser: CUDA parity") {
  nn::Fuser fuser(3, 4);
  fuser.weight.copy_(Tensor::from_vector(std::vector<float>{0.2f, -0.5f, 1.0f}, {3}));
  check_cuda_parity("Fuser",
                    [&](const std::vector<Tensor>& in) {
                      MemberSwap swap({&fuser.weight}, {in[3]});
                      return fuser.forward({in[0], in[1], in[2]});
                    },
                    {random_input({5, 4}, 1), random_input({5, 4}, 2), random_input({5, 4}, 3),
                     fuser.weight.to(DType::F64).set_requires_grad(true)});
}

// ================================ ClusterHead ====================================================

TEST_CASE("ClusterHead: logits are h . w_k / |w_k|, invariant to scaling a weight row") {
  Generator gen(8);
  nn::ClusterHead head(4, 3, gen);
  CHECK(head.named_parameters().size() == 1);  // no bias
  head.to(DType::F64);
  Tensor h = random_input({5, 4}, 9, 1.0, 0.0, false);
  const auto before = head.forward(h).to_vector<double>();
  const auto w = head.weight.to_vector<double>(), hv = h.to_vector<double>();
  for (int n = 0; n < 5; ++n)
    for (int k = 0; k < 3; ++k) {
      double dot = 0, norm = 0;
      for (int j = 0; j < 4; ++j) dot += hv[n * 4 + j] * w[k * 4 + j], norm += w[k * 4 + j] * w[k * 4 + j];
      CHECK(before[n * 3 + k] == doctest::Approx(dot / std::sqrt(norm)).epsilon(1e-12));
    }
  // Scale row 1 by 7 and row 2 by 0.01: same logits.
  V scaled = w;
  for (int j = 0; j < 4; ++j) scaled[4 + j] *= 7, scaled[8 + j] *= 0.01;
  head.weight.copy_(mat(scaled, {3, 4}));
  const auto after = head.forward(h).to_vector<double>();
  for (size_t i = 0; i < before.size(); ++i) CHECK(after[i] == doctest::Approx(before[i]).epsilon(1e-12));
}

TEST_CASE("ClusterHead: gradients w.r.t. input and the raw weight") {
  Generator gen(10);
  nn::ClusterHead head(6, 4, gen, nn::Init::KaimingNormal);
  head.to(DType::F64);
  CHECK_GRADIENTS([&](const std::vector<Tensor>& in) { return head.forward(in[0]); },
                  (std::vector<Tensor>{random_input({3, 6}, 11), head.weight}));
  // The normalisation makes the weight gradient orthogonal to each row (scale invariance).
  head.zero_grad();
  sum(square(head.forward(random_input({3, 6}, 12, 1.0, 0.0, false)))).backward();
  const auto g = head.weight.grad().to_vector<double>(), w = head.weight.to_vector<double>();
  for (int k = 0; k < 4; ++k) {
    double dot = 0;
    for (int j = 0; j < 6; ++j) dot += g[k * 6 + j] * w[k * 6 + j];
    CHECK(std::abs(dot) < 1e-12);
  }
}

TEST_CASE("ClusterHead: wrong width throws naming the layer; CUDA parity") {
  Generator gen(13);
  nn::ClusterHead head(4, 3, gen);
  CHECK_THROWS_WITH_AS(head.forward(Tensor::ones({2, 5})), doctest::Contains("ClusterHead(4 -> 3)"), cg::Error);
  CHECK_THROWS_WITH_AS(head.forward(Tensor::ones({2, 5})), doctest::Contains("[2, 5]"), cg::Error);
  check_cuda_parity("ClusterHead",
                    [&](const std::vector<Tensor>& in) {
                      MemberSwap swap({&head.weight}, {in[1]});
                      return head.forward(in[0]);
                    },
                    {random_input({5, 4}, 14), head.weight.to(DType::F64).set_requires_grad(true)});
}

// ================================ PathwayAttention ===============================================

namespace {
constexpr int64_t kG = 5, kP = 3, kD = 4, kH = 2;

// Pathway 0: genes {0, 1, 2}; pathway 1: genes {2, 4}; pathway 2: no genes.
Tensor toy_mask() {
  return make_mask(kP, kG, [](int64_t p, int64_t g) { return p == 0 ? g <= 2 : p == 1 ? (g == 2 || g == 4) : false; });
}

nn::PathwayAttentionConfig toy_config(nn::PathwayMask mode, bool pooled) {
  nn::PathwayAttentionConfig c;
  c.genes = kG;
  c.pathways = kP;
  c.dim = kD;
  c.heads = kH;
  c.mask = mode;
  c.pooled = pooled;
  return c;
}

// The layer's definition written out directly, one cell, one token and one head at a time.
struct NaiveAttention {
  V act, attn, pooled;  // [N, P, d], [N, H, P, G], [N, P]
};
NaiveAttention naive_attention(nn::PathwayAttention& m, const Tensor& x) {
  const auto& c = m.config();
  const int64_t G = c.genes, P = c.pathways, d = c.dim, H = c.heads, dh = d / H, N = x.dim(0);
  const auto E = m.gene_embedding.to_vector<double>(), Qp = m.queries.to_vector<double>();
  const auto Wq = m.q_proj->weight.to_vector<double>(), Wk = m.k_proj->weight.to_vector<double>(),
             Wv = m.v_proj->weight.to_vector<double>(), M = m.mask.to_vector<double>(), xv = x.to_vector<double>();
  const V Wm = c.mask == nn::PathwayMask::Soft ? m.mask_logits.to_vector<double>() : V();
  auto proj = [d](const V& W, const V& in) {  // y = W in, W [d, d]
    V y(d, 0.0);
    for (int64_t j = 0; j < d; ++j)
      for (int64_t i = 0; i < d; ++i) y[j] += W[j * d + i] * in[i];
    return y;
  };
  NaiveAttention out{V(N * P * d, 0.0), V(N * H * P * G, 0.0), V(N * P, 0.0)};
  for (int64_t n = 0; n < N; ++n) {
    std::vector<V> K(G), Vt(G), Q(P);
    for (int64_t g = 0; g < G; ++g) {
      V tok(d);
      for (int64_t j = 0; j < d; ++j) tok[j] = E[g * d + j] * xv[n * G + g];
      K[g] = proj(Wk, tok);
      Vt[g] = proj(Wv, tok);
    }
    for (int64_t p = 0; p < P; ++p) Q[p] = proj(Wq, V(Qp.begin() + p * d, Qp.begin() + (p + 1) * d));
    for (int64_t h = 0; h < H; ++h)
      for (int64_t p = 0; p < P; ++p) {
        V s(G);
        std::vector<bool> allowed(G, true);
        double mx = -INFINITY;
        for (int64_t g = 0; g < G; ++g) {
          double dot = 0;
          for (int64_t j = h * dh; j < (h + 1) * dh; ++j) dot += Q[p][j] * K[g][j];
          s[g] = dot / std::sqrt(static_cast<double>(dh));
          if (c.mask == nn::PathwayMask::Soft) s[g] += std::log(1.0 / (1.0 + std::exp(-Wm[p * G + g])));
          else allowed[g] = M[p * G + g] != 0;
          if (allowed[g]) mx = std::max(mx, s[g]);
        }
        double z = 0;
        for (int64_t g = 0; g < G; ++g) z += allowed[g] ? std::exp(s[g] - mx) : 0.0;
        for (int64_t g = 0; g < G; ++g) {
          const double a = allowed[g] ? std::exp(s[g] - mx) / z : 0.0;  // empty: all zero
          out.attn[((n * H + h) * P + p) * G + g] = a;
          for (int64_t j = h * dh; j < (h + 1) * dh; ++j) out.act[(n * P + p) * d + j] += a * Vt[g][j];
        }
      }
    if (c.pooled) {
      const auto u = m.pool_weight.to_vector<double>(), b = m.pool_bias.to_vector<double>();
      for (int64_t p = 0; p < P; ++p) {
        double s = b[p];
        for (int64_t j = 0; j < d; ++j) s += out.act[(n * P + p) * d + j] * u[p * d + j];
        out.pooled[n * P + p] = s;
      }
    }
  }
  return out;
}

void check_close(const V& got, const V& want, double tol) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(tol).scale(1.0));
  }
}

// Every output of the layer flattened side by side, for gradient checks.
Tensor all_outputs(const nn::PathwayAttention::Output& o) {
  std::vector<Tensor> parts{reshape(o.activities, {1, -1}), reshape(o.attention, {1, -1})};
  if (o.pooled.defined()) parts.push_back(reshape(o.pooled, {1, -1}));
  return concat(parts, 1);
}

std::vector<Tensor> parameters_of(nn::PathwayAttention& m) {
  std::vector<Tensor> out;
  for (auto& [name, t] : m.named_parameters()) out.push_back(t);
  return out;
}
}  // namespace

TEST_CASE("PathwayAttention: parameters, buffers and their names") {
  Generator gen(20);
  nn::PathwayAttention hard(toy_config(nn::PathwayMask::Hard, false), toy_mask(), gen);
  std::vector<std::string> names;
  for (auto& [n, t] : hard.named_parameters()) names.push_back(n);
  CHECK(names ==
        std::vector<std::string>{"gene_embedding", "queries", "q_proj.weight", "k_proj.weight", "v_proj.weight"});
  REQUIRE(hard.named_buffers().size() == 1);
  CHECK(hard.named_buffers()[0].first == "mask");
  nn::PathwayAttention soft(toy_config(nn::PathwayMask::Soft, true), toy_mask(), gen);
  names.clear();
  for (auto& [n, t] : soft.named_parameters()) names.push_back(n);
  // A module lists its own parameters before its children's.
  CHECK(names == std::vector<std::string>{"gene_embedding", "queries", "mask_logits", "pool_weight", "pool_bias",
                                          "q_proj.weight", "k_proj.weight", "v_proj.weight"});
}

TEST_CASE("PathwayAttention: hard mask forward matches the naive definition; exact zeros outside, no NaN") {
  Generator gen(21);
  nn::PathwayAttention layer(toy_config(nn::PathwayMask::Hard, true), toy_mask(), gen);
  layer.to(DType::F64);
  Tensor x = cg::test::positive_input({3, kG}, 22, 0.0, 3.0);
  const auto out = layer.forward(x);
  REQUIRE(out.activities.shape() == Shape{3, kP, kD});
  REQUIRE(out.attention.shape() == Shape{3, kH, kP, kG});
  REQUIRE(out.pooled.shape() == Shape{3, kP});
  const NaiveAttention want = naive_attention(layer, x);
  check_close(out.activities.to_vector<double>(), want.act, 1e-12);
  check_close(out.attention.to_vector<double>(), want.attn, 1e-12);
  check_close(out.pooled.to_vector<double>(), want.pooled, 1e-12);

  const auto a = out.attention.to_vector<double>(), act = out.activities.to_vector<double>();
  const auto M = layer.mask.to_vector<double>();
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t h = 0; h < kH; ++h)
      for (int64_t p = 0; p < kP; ++p) {
        double row = 0;
        for (int64_t g = 0; g < kG; ++g) {
          const double w = a[static_cast<size_t>(((n * kH + h) * kP + p) * kG + g)];
          if (M[static_cast<size_t>(p * kG + g)] == 0) CHECK(w == 0.0);
          else CHECK(w > 0.0);
          row += w;
        }
        CHECK(row == doctest::Approx(p == 2 ? 0.0 : 1.0).epsilon(1e-12));  // pathway 2 is empty
      }
  // The empty pathway's activities are exactly zero, and its pooled score is its bias.
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t j = 0; j < kD; ++j) CHECK(act[static_cast<size_t>((n * kP + 2) * kD + j)] == 0.0);
  CHECK(all_finite(out.activities));
  CHECK(all_finite(out.attention));

  // Backward through the empty pathway is finite too.
  layer.zero_grad();
  sum(square(all_outputs(layer.forward(x)))).backward();
  for (auto& [name, t] : layer.named_parameters()) {
    INFO(name);
    CHECK(all_finite(t.grad()));
  }
}

TEST_CASE("PathwayAttention: hard mask gives exact zeros in float32 with large logits too") {
  Generator gen(23);
  auto cfg = toy_config(nn::PathwayMask::Hard, false);
  nn::PathwayAttention layer(cfg, toy_mask(), gen);
  Tensor x = mul_scalar(gen.uniform({4, kG}), 50.0);  // logits far from 0
  const auto a = layer.forward(x).attention.to_vector<double>();
  const auto M = layer.mask.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(std::isfinite(a[i]));
    if (M[i % static_cast<size_t>(kP * kG)] == 0) CHECK(a[i] == 0.0);
  }
}

TEST_CASE("PathwayAttention: soft mask forward matches the naive definition; gate starts at the prior") {
  Generator gen(24);
  auto cfg = toy_config(nn::PathwayMask::Soft, true);
  nn::PathwayAttention layer(cfg, toy_mask(), gen);
  const auto gate = layer.gate().to_vector<double>(), M = layer.mask.to_vector<double>();
  const auto logits = layer.mask_logits.to_vector<double>();
  const double hi = std::log(0.95 / 0.05);
  bool noisy = false;
  for (size_t i = 0; i < gate.size(); ++i) {
    CHECK(std::abs(gate[i] - (M[i] != 0 ? 0.95 : 0.05)) < 0.05);
    noisy = noisy || std::abs(std::abs(logits[i]) - hi) > 1e-6;  // noise was added
  }
  CHECK(noisy);

  layer.to(DType::F64);
  Tensor x = cg::test::positive_input({2, kG}, 25, 0.0, 3.0);
  const auto out = layer.forward(x);
  const NaiveAttention want = naive_attention(layer, x);
  check_close(out.activities.to_vector<double>(), want.act, 1e-12);
  check_close(out.attention.to_vector<double>(), want.attn, 1e-12);
  check_close(out.pooled.to_vector<double>(), want.pooled, 1e-12);
  // Every row (the empty pathway's included) is a distribution; out-of-set genes are
  // down-weighted but not excluded.
  const auto a = out.attention.to_vector<double>();
  for (size_t r = 0; r < a.size() / kG; ++r) {
    double s = 0;
    for (int64_t g = 0; g < kG; ++g) s += a[r * kG + static_cast<size_t>(g)];
    CHECK(s == doctest::Approx(1.0).epsilon(1e-12));
  }
}

TEST_CASE("PathwayAttention: gradients w.r.t. expression and every parameter (hard mask, empty pathway)") {
  Generator gen(26);
  nn::PathwayAttention layer(toy_config(nn::PathwayMask::Hard, true), toy_mask(), gen);
  layer.to(DType::F64);
  std::vector<Tensor> inputs{cg::test::positive_input({2, kG}, 27, 0.2, 2.0)};
  for (const Tensor& p : parameters_of(layer)) inputs.push_back(p);
  REQUIRE(inputs.size() == 8);
  CHECK_GRADIENTS([&](const std::vector<Tensor>& in) { return all_outputs(layer.forward(in[0])); }, inputs);
}

TEST_CASE("PathwayAttention: gradients w.r.t. expression and every parameter (soft mask)") {
  Generator gen(28);
  nn::PathwayAttention layer(toy_config(nn::PathwayMask::Soft, true), toy_mask(), gen);
  layer.to(DType::F64);
  std::vector<Tensor> inputs{cg::test::positive_input({2, kG}, 29, 0.2, 2.0)};
  for (const Tensor& p : parameters_of(layer)) inputs.push_back(p);
  REQUIRE(inputs.size() == 9);  // mask_logits included
  CHECK_GRADIENTS([&](const std::vector<Tensor>& in) { return all_outputs(layer.forward(in[0])); }, inputs);
}

TEST_CASE("PathwayAttention: a cell's output does not depend on its batch (index cache across batch sizes)") {
  Generator gen(30);
  nn::PathwayAttention layer(toy_config(nn::PathwayMask::Hard, true), toy_mask(), gen);
  layer.to(DType::F64);
  Tensor x3 = cg::test::positive_input({3, kG}, 31, 0.0, 2.0);
  const V all = x3.to_vector<double>();
  Tensor x1 = Tensor::from_vector(V(all.begin() + 2 * kG, all.end()), {1, kG});
  const auto big = layer.forward(x3).pooled.to_vector<double>();
  const auto one = layer.forward(x1).pooled.to_vector<double>();
  const auto again = layer.forward(x3).pooled.to_vector<double>();
  for (int64_t p = 0; p < kP; ++p) CHECK(one[p] == doctest::Approx(big[2 * kP + p]).epsilon(1e-12));
  CHECK(again == big);
}

TEST_CASE("PathwayAttention: bad configuration, masks and inputs throw naming the layer") {
  Generator gen(32);
  auto cfg = toy_config(nn::PathwayMask::Hard, false);
  CHECK_THROWS_WITH_AS(nn::PathwayAttention(cfg, Tensor::ones({kG, kP}), gen),
                       doctest::Contains("PathwayAttention(5 genes"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::PathwayAttention(cfg, Tensor::ones({kG, kP}), gen), doctest::Contains("[5, 3]"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::PathwayAttention(cfg, Tensor::ones({kG, kP}), gen), doctest::Contains("[3, 5]"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::PathwayAttention(cfg, Tensor::full({kP, kG}, 2.0), gen), doctest::Contains("only 0 and 1"),
                       cg::Error);
  auto odd = cfg;
  odd.heads = 3;
  CHECK_THROWS_WITH_AS(nn::PathwayAttention(odd, toy_mask(), gen), doctest::Contains("not divisible by heads"),
                       cg::Error);
  auto soft = toy_config(nn::PathwayMask::Soft, false);
  soft.soft_mask_floor = 0.7;
  CHECK_THROWS_WITH_AS(nn::PathwayAttention(soft, toy_mask(), gen), doctest::Contains("soft_mask_floor"), cg::Error);

  nn::PathwayAttention layer(cfg, toy_mask(), gen);
  CHECK_THROWS_WITH_AS(layer.forward(Tensor::ones({2, kG + 1})), doctest::Contains("PathwayAttention(5 genes"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(layer.forward(Tensor::ones({2, kG + 1})), doctest::Contains("[2, 6]"), cg::Error);
  CHECK_THROWS_WITH_AS(layer.forward(Tensor::ones({2, kG}, DType::F64)), doctest::Contains("float64"), cg::Error);
}

TEST_CASE("PathwayAttention: CUDA parity, hard and soft masks") {
  for (auto mode : {nn::PathwayMask::Hard, nn::PathwayMask::Soft}) {
    Generator gen(33);
    nn::PathwayAttention layer(toy_config(mode, true), toy_mask(), gen);
    std::vector<Tensor*> members{&layer.gene_embedding, &layer.queries,        &layer.q_proj->weight,
                                 &layer.k_proj->weight, &layer.v_proj->weight, &layer.pool_weight,
                                 &layer.pool_bias};
    if (mode == nn::PathwayMask::Soft) members.push_back(&layer.mask_logits);
    std::vector<Tensor> inputs{cg::test::positive_input({3, kG}, 34, 0.0, 2.0)};
    for (Tensor* m : members) inputs.push_back(m->to(DType::F64).set_requires_grad(true));
    check_cuda_parity(
        mode == nn::PathwayMask::Hard ? "PathwayAttention hard" : "PathwayAttention soft",
        [&](const std::vector<Tensor>& in) {
          layer.to(in[0].device());  // the mask buffer follows the device
          MemberSwap swap(members, std::vector<Tensor>(in.begin() + 1, in.end()));
          return all_outputs(layer.forward(in[0]));
        },
        inputs);
  }
}
