// csr_attention (the sparse masked attention op), CsrPattern and nn::SparsePathwayAttention:
// the op against its definition written out naively, finite-difference gradients of every
// input, CPU/CUDA parity; the layer against the dense PathwayAttention (hard mask, and soft mask
// with the same gate values), its gradients, candidate links, errors, and the bytes its
// activations hold at 256 cells x 7,000 genes x 500 pathways at 2% density.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "autograd/allocator.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/rng.h"
#include "nn/pathway_attention.h"
#include "nn/sparse_pathway_attention.h"
#include "tests/op_check.h"

using namespace cg;
using cg::test::check_cuda_parity;
using cg::test::random_input;

namespace {
using V = std::vector<double>;
using Members = std::vector<std::vector<int64_t>>;

// 4 pathways over 6 genes; pathway 2 is empty, pathway 3 holds one gene.
const Members kMembers{{0, 2, 5}, {1, 2, 3, 4}, {}, {4}};
constexpr int64_t kGenes = 6, kHeads = 2, kHeadDim = 3;

// The op's definition, one (cell, head, pathway) at a time.
V naive_csr_attention(const V& x, const V& qk, const V& values, const V* bias, const Members& rows, int64_t N,
                      int64_t G, int64_t H, int64_t dh, V* attention) {
  const int64_t P = static_cast<int64_t>(rows.size()), d = H * dh;
  int64_t nnz = 0;
  for (const auto& r : rows) nnz += static_cast<int64_t>(r.size());
  V out(static_cast<size_t>(N * P * d), 0.0);
  if (attention) attention->assign(static_cast<size_t>(N * H * nnz), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h) {
      int64_t e0 = 0;
      for (int64_t p = 0; p < P; ++p) {
        const auto& r = rows[static_cast<size_t>(p)];
        V s(r.size());
        double mx = -INFINITY, z = 0;
        for (size_t k = 0; k < r.size(); ++k) {
          const int64_t e = e0 + static_cast<int64_t>(k);
          s[k] = x[n * G + r[k]] * qk[e * H + h] + (bias ? (*bias)[e] : 0.0);
          mx = std::max(mx, s[k]);
        }
        for (double v : s) z += std::exp(v - mx);
        for (size_t k = 0; k < r.size(); ++k) {
          const int64_t e = e0 + static_cast<int64_t>(k), g = r[k];
          const double a = std::exp(s[k] - mx) / z;
          if (attention) (*attention)[(n * H + h) * nnz + e] = a;
          for (int64_t j = 0; j < dh; ++j) out[(n * P + p) * d + h * dh + j] += a * x[n * G + g] * values[g * d + h * dh + j];
        }
        e0 += static_cast<int64_t>(r.size());
      }
    }
  return out;
}

void check_close(const V& got, const V& want, double tol) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": " << got[i] << " vs " << want[i]);
    CHECK(std::abs(got[i] - want[i]) <= tol * std::max(1.0, std::abs(want[i])));
  }
}

nn::PathwayAttentionConfig layer_config(nn::PathwayMask mask, bool pooled, int64_t P) {
  nn::PathwayAttentionConfig c;
  c.genes = kGenes;
  c.pathways = P;
  c.dim = 4;
  c.heads = 2;
  c.mask = mask;
  c.pooled = pooled;
  return c;
}

Tensor dense_mask(const Members& rows, int64_t G) {
  std::vector<float> m(rows.size() * static_cast<size_t>(G), 0.f);
  for (size_t p = 0; p < rows.size(); ++p)
    for (int64_t g : rows[p]) m[p * static_cast<size_t>(G) + static_cast<size_t>(g)] = 1.f;
  return Tensor::from_vector(m, {static_cast<int64_t>(rows.size()), G});
}

// Scatter sparse weights [N, H, nnz] into the dense layout [N, H, P, G].
V scatter_attention(const V& sparse, const Members& links, int64_t N, int64_t H, int64_t G) {
  const int64_t P = static_cast<int64_t>(links.size());
  int64_t nnz = 0;
  for (const auto& r : links) nnz += static_cast<int64_t>(r.size());
  V dense(static_cast<size_t>(N * H * P * G), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h) {
      int64_t e = 0;
      for (int64_t p = 0; p < P; ++p)
        for (int64_t g : links[static_cast<size_t>(p)]) dense[((n * H + h) * P + p) * G + g] = sparse[(n * H + h) * nnz + e++];
    }
  return dense;
}

Tensor outputs_of(const Tensor& activities, const Tensor& pooled) {
  std::vector<Tensor> parts{reshape(activities, {1, -1})};
  if (pooled.defined()) parts.push_back(reshape(pooled, {1, -1}));
  return concat(parts, 1);
}

// Swaps a layer's members for the given tensors while it lives (CUDA parity runs).
struct SwapMembers {
  std::vector<Tensor*> members;
  std::vector<Tensor> saved;
  SwapMembers(std::vector<Tensor*> m, const std::vector<Tensor>& with) : members(std::move(m)) {
    for (size_t i = 0; i < members.size(); ++i) {
      saved.push_back(*members[i]);
      *members[i] = with[i];
    }
  }
  ~SwapMembers() {
    for (size_t i = 0; i < members.size(); ++i) *members[i] = saved[i];
  }
};

// Copies every parameter the sparse layer shares with the dense one (all but mask_logits).
void copy_shared_parameters(nn::SparsePathwayAttention& to, nn::PathwayAttention& from) {
  auto src = from.named_parameters();
  for (auto& [name, t] : to.named_parameters()) {
    if (name == "mask_logits") continue;
    bool found = false;
    for (auto& [n2, s] : src)
      if (n2 == name) {
        REQUIRE(s.shape() == t.shape());
        nn::rebind_storage(t, s.detach().clone());
        found = true;
      }
    REQUIRE_MESSAGE(found, name);
  }
}
}  // namespace

// ================================ the op ============================================================

TEST_CASE("csr_attention: forward matches its definition; rows sum to 1, empty pathways give 0") {
  const CsrPattern pat = CsrPattern::from_rows(kMembers, kGenes);
  REQUIRE(pat.nnz == 8);
  CHECK(pat.row_ptr.to_vector<int32_t>() == std::vector<int32_t>{0, 3, 7, 7, 8});
  CHECK(pat.col_ptr.to_vector<int32_t>() == std::vector<int32_t>{0, 1, 2, 4, 5, 7, 8});
  CHECK(pat.col_entries.to_vector<int32_t>() == std::vector<int32_t>{0, 3, 1, 4, 5, 6, 7, 2});
  CHECK(pat.members() == kMembers);
  const int64_t N = 3;
  const Tensor x = cg::test::positive_input({N, kGenes}, 1, 0.0, 3.0);
  const Tensor qk = random_input({pat.nnz, kHeads}, 2), values = random_input({kGenes, kHeads * kHeadDim}, 3);
  const Tensor bias = random_input({pat.nnz}, 4);
  for (bool with_bias : {false, true}) {
    INFO("bias " << with_bias);
    Tensor attn;
    const Tensor out = csr_attention(x, qk, values, with_bias ? bias : Tensor(), pat, &attn);
    REQUIRE(out.shape() == Shape{N, 4, kHeads * kHeadDim});
    REQUIRE(attn.shape() == Shape{N, kHeads, pat.nnz});
    const V b = bias.to_vector<double>();
    V want_attn;
    const V want = naive_csr_attention(x.to_vector<double>(), qk.to_vector<double>(), values.to_vector<double>(),
                                       with_bias ? &b : nullptr, kMembers, N, kGenes, kHeads, kHeadDim, &want_attn);
    check_close(out.to_vector<double>(), want, 1e-12);
    check_close(attn.to_vector<double>(), want_attn, 1e-12);
    const V a = attn.to_vector<double>(), o = out.to_vector<double>();
    for (int64_t r = 0; r < N * kHeads; ++r) {
      double s0 = 0, s1 = 0;
      for (int64_t e = 0; e < 3; ++e) s0 += a[r * 8 + e];
      for (int64_t e = 3; e < 7; ++e) s1 += a[r * 8 + e];
      CHECK(s0 == doctest::Approx(1.0).epsilon(1e-12));
      CHECK(s1 == doctest::Approx(1.0).epsilon(1e-12));
      CHECK(a[r * 8 + 7] == doctest::Approx(1.0).epsilon(1e-12));  // a one-gene pathway
    }
    for (int64_t n = 0; n < N; ++n)
      for (int64_t j = 0; j < kHeads * kHeadDim; ++j) CHECK(o[(n * 4 + 2) * 6 + j] == 0.0);  // empty pathway
  }
}

TEST_CASE("csr_attention: gradients w.r.t. x, qk, values and bias (float64 finite differences)") {
  const CsrPattern pat = CsrPattern::from_rows(kMembers, kGenes);
  std::vector<Tensor> inputs{cg::test::positive_input({2, kGenes}, 5, 0.1, 2.0), random_input({pat.nnz, kHeads}, 6),
                             random_input({kGenes, kHeads * kHeadDim}, 7), random_input({pat.nnz}, 8)};
  CHECK_GRADIENTS([&](const std::vector<Tensor>& in) { return csr_attention(in[0], in[1], in[2], in[3], pat); },
                  inputs);
  const std::vector<Tensor> without_bias(inputs.begin(), inputs.begin() + 3);
  CHECK_GRADIENTS([&](const std::vector<Tensor>& in) { return csr_attention(in[0], in[1], in[2], Tensor(), pat); },
                  without_bias);
  // x with zeros and negative values (a zero-expression gene has a zero value and score bias only).
  Tensor x = random_input({2, kGenes}, 9);
  x.data<double>()[3] = 0.0;
  const std::vector<Tensor> with_zero{x, inputs[1], inputs[2], inputs[3]};
  CHECK_GRADIENTS([&](const std::vector<Tensor>& in) { return csr_attention(in[0], in[1], in[2], in[3], pat); },
                  with_zero);
}

TEST_CASE("csr_attention: CUDA parity (forward and every gradient)") {
  const CsrPattern cpu = CsrPattern::from_rows(kMembers, kGenes);
  CsrPattern on_cuda;
  std::vector<Tensor> inputs{cg::test::positive_input({5, kGenes}, 10, 0.0, 2.0), random_input({cpu.nnz, kHeads}, 11),
                             random_input({kGenes, kHeads * kHeadDim}, 12), random_input({cpu.nnz}, 13)};
  check_cuda_parity("csr_attention",
                    [&](const std::vector<Tensor>& in) {
                      if (in[0].device() == Device::CPU) return csr_attention(in[0], in[1], in[2], in[3], cpu);
                      if (!on_cuda.row_ptr.defined()) on_cuda = cpu.to(Device::CUDA);
                      return csr_attention(in[0], in[1], in[2], in[3], on_cuda);
                    },
                    inputs);
}

TEST_CASE("csr_attention and CsrPattern: bad input throws saying what was expected and found") {
  CHECK_THROWS_WITH_AS(CsrPattern::from_rows({{0, 7}}, 6), doctest::Contains("row 0 names column 7, expected one in [0, 6)"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(CsrPattern::from_rows({{1}, {2, 2}}, 6), doctest::Contains("row 1 names column 2 twice"),
                       cg::Error);
  const CsrPattern pat = CsrPattern::from_rows(kMembers, kGenes);
  const Tensor x = Tensor::ones({2, kGenes}), qk = Tensor::ones({pat.nnz, 2}), v = Tensor::ones({kGenes, 6});
  CHECK_NOTHROW(csr_attention(x, qk, v, Tensor(), pat));
  CHECK_THROWS_WITH_AS(csr_attention(Tensor::ones({2, 5}), qk, v, Tensor(), pat),
                       doctest::Contains("expected x [N, 6] (the pattern's columns), found float32[2, 5]"), cg::Error);
  CHECK_THROWS_WITH_AS(csr_attention(x, Tensor::ones({7, 2}), v, Tensor(), pat),
                       doctest::Contains("expected qk [8, heads]"), cg::Error);
  CHECK_THROWS_WITH_AS(csr_attention(x, Tensor::ones({8, 4}), v, Tensor(), pat),
                       doctest::Contains("values width 6 is not divisible by the 4 heads"), cg::Error);
  CHECK_THROWS_WITH_AS(csr_attention(x, qk, Tensor::ones({5, 6}), Tensor(), pat),
                       doctest::Contains("expected values [6, heads * head_dim], found float32[5, 6]"), cg::Error);
  CHECK_THROWS_WITH_AS(csr_attention(x, qk, v, Tensor::ones({3}), pat), doctest::Contains("expected bias [8]"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(csr_attention(x, qk.to(DType::F64), v, Tensor(), pat), doctest::Contains("different dtypes"),
                       cg::Error);
}

// ================================ the layer =========================================================

TEST_CASE("SparsePathwayAttention == PathwayAttention, hard mask: forward, weights and every gradient") {
  const int64_t P = 4, N = 3;
  Generator g1(40), g2(40);
  nn::PathwayAttention dense(layer_config(nn::PathwayMask::Hard, true, P), dense_mask(kMembers, kGenes), g1);
  nn::SparsePathwayAttention sparse(layer_config(nn::PathwayMask::Hard, true, P), kMembers, g2);
  dense.to(DType::F64);
  sparse.to(DType::F64);
  copy_shared_parameters(sparse, dense);
  const Tensor x = cg::test::positive_input({N, kGenes}, 41, 0.0, 3.0);
  const auto d = dense.forward(x);
  const auto s = sparse.forward(x, true);
  check_close(s.activities.to_vector<double>(), d.activities.to_vector<double>(), 1e-12);
  check_close(s.pooled.to_vector<double>(), d.pooled.to_vector<double>(), 1e-12);
  check_close(scatter_attention(s.attention.to_vector<double>(), sparse.links(), N, 2, kGenes),
              d.attention.to_vector<double>(), 1e-12);
  CHECK(sparse.gate().to_vector<double>() == V(static_cast<size_t>(sparse.nnz()), 1.0));

  Generator wg(42);
  const Tensor w = wg.normal({1, N * P * 5}, Device::CPU, DType::F64);
  for (auto* m : std::vector<nn::Module*>{&dense, &sparse}) m->zero_grad();
  Tensor xd = x.detach().clone().set_requires_grad(true), xs = x.detach().clone().set_requires_grad(true);
  const auto dout = dense.forward(xd);
  sum(mul(outputs_of(dout.activities, dout.pooled), w)).backward();
  const auto so = sparse.forward(xs);
  sum(mul(outputs_of(so.activities, so.pooled), w)).backward();
  check_close(xs.grad().to_vector<double>(), xd.grad().to_vector<double>(), 1e-10);
  auto dp = dense.named_parameters();
  for (auto& [name, t] : sparse.named_parameters())
    for (auto& [n2, u] : dp)
      if (n2 == name) {
        INFO(name);
        check_close(t.grad().to_vector<double>(), u.grad().to_vector<double>(), 1e-10);
      }
}

TEST_CASE("SparsePathwayAttention == PathwayAttention, soft mask with candidate links and the same gate values") {
  const int64_t P = 4, N = 2;
  // Candidates: pathway 2 is empty but gets two candidate links; no pathway is left without links,
  // since the dense soft layer spreads an empty row over every gene.
  const Members cand{{1}, {0, 5}, {3, 4}, {2}};
  Generator g1(43), g2(44);
  nn::PathwayAttention dense(layer_config(nn::PathwayMask::Soft, true, P), dense_mask(kMembers, kGenes), g1);
  nn::SparsePathwayAttention sparse(layer_config(nn::PathwayMask::Soft, true, P), kMembers, g2, cand);
  dense.to(DType::F64);
  sparse.to(DType::F64);
  copy_shared_parameters(sparse, dense);
  // Gates at the prior: set links ~0.95, candidates ~0.05 (floor 0.05, noise 0.01).
  const V gate = sparse.gate().to_vector<double>();
  REQUIRE(gate.size() == 14);
  for (size_t e = 0; e < gate.size(); ++e) CHECK(std::abs(gate[e] - (sparse.in_set()[e] ? 0.95 : 0.05)) < 0.01);
  CHECK(sparse.links()[2] == std::vector<int64_t>{3, 4});
  // Random gate logits on the links; the dense layer gets the same at the links and a closed gate
  // (log sigmoid(-1e4) = -1e4: weight exactly 0) elsewhere.
  Generator wg(45);
  nn::rebind_storage(sparse.mask_logits, wg.normal({sparse.nnz()}, Device::CPU, DType::F64));
  const V w = sparse.mask_logits.to_vector<double>();
  V wd(static_cast<size_t>(P * kGenes), -1e4);
  int64_t e = 0;
  for (int64_t p = 0; p < P; ++p)
    for (int64_t g : sparse.links()[static_cast<size_t>(p)]) wd[static_cast<size_t>(p * kGenes + g)] = w[e++];
  nn::rebind_storage(dense.mask_logits, Tensor::from_vector(wd, {P, kGenes}));
  dense.mask_logits.set_requires_grad(true);

  const Tensor x = cg::test::positive_input({N, kGenes}, 46, 0.0, 3.0);
  const auto d = dense.forward(x);
  const auto s = sparse.forward(x, true);
  check_close(s.activities.to_vector<double>(), d.activities.to_vector<double>(), 1e-12);
  check_close(s.pooled.to_vector<double>(), d.pooled.to_vector<double>(), 1e-12);
  check_close(scatter_attention(s.attention.to_vector<double>(), sparse.links(), N, 2, kGenes),
              d.attention.to_vector<double>(), 1e-12);

  const Tensor ow = wg.normal({1, N * P * 5}, Device::CPU, DType::F64);
  dense.zero_grad();
  sparse.zero_grad();
  sum(mul(outputs_of(d.activities, d.pooled), ow)).backward();
  sum(mul(outputs_of(s.activities, s.pooled), ow)).backward();
  auto dp = dense.named_parameters();
  for (auto& [name, t] : sparse.named_parameters())
    for (auto& [n2, u] : dp)
      if (n2 == name && name != "mask_logits") {
        INFO(name);
        check_close(t.grad().to_vector<double>(), u.grad().to_vector<double>(), 1e-10);
      }
  // Gate gradients: the dense layer's at the links equal the sparse ones; elsewhere they vanish.
  const V gd = dense.mask_logits.grad().to_vector<double>(), gs = sparse.mask_logits.grad().to_vector<double>();
  e = 0;
  bool nonzero = false;
  for (int64_t p = 0; p < P; ++p)
    for (int64_t g : sparse.links()[static_cast<size_t>(p)]) {
      CHECK(gs[static_cast<size_t>(e)] == doctest::Approx(gd[static_cast<size_t>(p * kGenes + g)]).epsilon(1e-10));
      nonzero = nonzero || std::abs(gs[static_cast<size_t>(e)]) > 1e-6;
      ++e;
    }
  CHECK(nonzero);
}

TEST_CASE("SparsePathwayAttention: gradients w.r.t. expression and every parameter (hard; soft with candidates)") {
  for (auto mode : {nn::PathwayMask::Hard, nn::PathwayMask::Soft}) {
    INFO((mode == nn::PathwayMask::Hard ? "hard" : "soft"));
    Generator gen(47);
    const Members cand = mode == nn::PathwayMask::Soft ? Members{{1}, {0}, {3, 4}, {}} : Members{};
    nn::SparsePathwayAttention layer(layer_config(mode, true, 4), kMembers, gen, cand);
    layer.to(DType::F64);
    std::vector<Tensor> inputs{cg::test::positive_input({2, kGenes}, 48, 0.2, 2.0)};
    for (auto& [name, t] : layer.named_parameters()) inputs.push_back(t);
    REQUIRE(inputs.size() == (mode == nn::PathwayMask::Soft ? 9u : 8u));
    CHECK_GRADIENTS(
        [&](const std::vector<Tensor>& in) {
          const auto o = layer.forward(in[0]);
          return outputs_of(o.activities, o.pooled);
        },
        inputs);
  }
}

TEST_CASE("SparsePathwayAttention: CUDA parity, hard and soft masks") {
  for (auto mode : {nn::PathwayMask::Hard, nn::PathwayMask::Soft}) {
    Generator gen(49);
    const Members cand = mode == nn::PathwayMask::Soft ? Members{{1}, {0}, {3, 4}, {}} : Members{};
    nn::SparsePathwayAttention layer(layer_config(mode, true, 4), kMembers, gen, cand);
    std::vector<Tensor*> members{&layer.gene_embedding, &layer.queries,        &layer.q_proj->weight,
                                 &layer.k_proj->weight, &layer.v_proj->weight, &layer.pool_weight,
                                 &layer.pool_bias};
    if (mode == nn::PathwayMask::Soft) members.push_back(&layer.mask_logits);
    std::vector<Tensor> inputs{cg::test::positive_input({3, kGenes}, 50, 0.0, 2.0)};
    for (Tensor* m : members) inputs.push_back(m->to(DType::F64).set_requires_grad(true));
    check_cuda_parity(mode == nn::PathwayMask::Hard ? "SparsePathwayAttention hard" : "SparsePathwayAttention soft",
                      [&](const std::vector<Tensor>& in) {
                        layer.to(in[0].device());
                        SwapMembers swap(members, std::vector<Tensor>(in.begin() + 1, in.end()));
                        const auto o = layer.forward(in[0]);
                        return outputs_of(o.activities, o.pooled);
                      },
                      inputs);
  }
}

TEST_CASE("SparsePathwayAttention: bad configuration, gene lists and inputs throw naming the layer") {
  Generator gen(51);
  auto cfg = layer_config(nn::PathwayMask::Hard, false, 4);
  CHECK_THROWS_WITH_AS(nn::SparsePathwayAttention(cfg, Members{{0}, {1}}, gen),
                       doctest::Contains("SparsePathwayAttention(6 genes, 4 pathways, dim 4, 2 heads): expected gene "
                                         "lists for 4 pathways, found 2"),
                       cg::Error);
  auto odd = cfg;
  odd.heads = 3;
  CHECK_THROWS_WITH_AS(nn::SparsePathwayAttention(odd, kMembers, gen), doctest::Contains("dim 4 is not divisible by heads 3"),
                       cg::Error);
  CHECK_THROWS_WITH_AS(nn::SparsePathwayAttention(cfg, Members{{0}, {9}, {}, {}}, gen),
                       doctest::Contains("pathway 1 lists gene 9, expected an index in [0, 6)"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::SparsePathwayAttention(cfg, kMembers, gen, Members{{1}, {}, {}, {}}),
                       doctest::Contains("candidate links need the soft mask"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::SparsePathwayAttention(cfg, Tensor::ones({kGenes, 4}), gen),
                       doctest::Contains("[4, 6]"), cg::Error);
  auto soft = layer_config(nn::PathwayMask::Soft, false, 4);
  CHECK_THROWS_WITH_AS(nn::SparsePathwayAttention(soft, kMembers, gen, Members{{2}, {}, {}, {}}),
                       doctest::Contains("candidate gene 2 of pathway 0 is already in its set"), cg::Error);
  CHECK_THROWS_WITH_AS(nn::SparsePathwayAttention(soft, kMembers, gen, Members{{1}}),
                       doctest::Contains("expected candidate lists for 4 pathways (or none), found 1"), cg::Error);
  nn::SparsePathwayAttention layer(cfg, kMembers, gen);
  CHECK_THROWS_WITH_AS(layer.forward(Tensor::ones({2, kGenes + 1})),
                       doctest::Contains("expected expression [N, 6], found float32[2, 7]"), cg::Error);
  CHECK_THROWS_WITH_AS(layer.forward(Tensor::ones({2, kGenes}, DType::F64)), doctest::Contains("float64"), cg::Error);
  // The dense-mask constructor gives the same links as the lists.
  nn::SparsePathwayAttention from_mask(cfg, dense_mask(kMembers, kGenes), gen);
  CHECK(from_mask.links() == kMembers);
}

TEST_CASE("coexpression_candidates: the most correlated genes outside each set, positive only") {
  // 8 cells x 7 genes. Pathway 0 = genes {0, 1}. Gene 2 follows their mean closely, gene 3 weakly,
  // gene 4 is anti-correlated, gene 5 constant, gene 6 slightly anti-correlated noise (mean
  // correlations, numpy: 0.96, 0.76, -0.96, 0, -0.017 for genes 2..6).
  const int64_t C = 8, G = 7;
  std::vector<double> X(static_cast<size_t>(C * G));
  for (int64_t i = 0; i < C; ++i) {
    const double a = std::sin(0.9 * i), b = std::cos(1.7 * i), noise = std::sin(5.3 * i + 1.0);
    const double row[7] = {a + 0.3 * b, a - 0.2 * b, a + 0.05 * noise, a + 0.6 * noise, -a, 2.0, std::cos(3.1 * i * i)};
    for (int64_t g = 0; g < G; ++g) X[static_cast<size_t>(i * G + g)] = row[g];
  }
  const Tensor expr = Tensor::from_vector(X, {C, G});
  const auto c = nn::coexpression_candidates(expr, {{0, 1}, {}}, 2);
  REQUIRE(c.size() == 2);
  CHECK(c[0] == std::vector<int64_t>{2, 3});
  CHECK(c[1].empty());
  const auto one = nn::coexpression_candidates(expr, {{0, 1}}, 1);
  CHECK(one[0] == std::vector<int64_t>{2});
  // Only positively correlated, non-constant genes, however many are asked for.
  CHECK(nn::coexpression_candidates(expr, {{0, 1}}, 10)[0] == std::vector<int64_t>{2, 3});
  CHECK(nn::coexpression_candidates(expr, {{0, 1}}, 0)[0].empty());
}

TEST_CASE("SparsePathwayAttention: activations for 256 cells x 7,000 genes x 500 pathways at 2% stay far below dense") {
  // Realistic cells, genes, pathways and density; a small width (the weights' count does not
  // depend on it). Dense would hold N * heads * P * G float32 weights in its attention output
  // alone (7.2 GB here), before its logits and softmax intermediates.
  const int64_t N = 256, G = 7000, P = 500, per_pathway = 140, H = 2, d = 4;  // 140 / 7000 = 2%
  Members members(static_cast<size_t>(P));
  uint64_t state = 12345;
  for (int64_t p = 0; p < P; ++p) {
    std::vector<bool> used(static_cast<size_t>(G), false);
    while (static_cast<int64_t>(members[static_cast<size_t>(p)].size()) < per_pathway) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      const int64_t g = static_cast<int64_t>((state >> 33) % static_cast<uint64_t>(G));
      if (!used[static_cast<size_t>(g)]) {
        used[static_cast<size_t>(g)] = true;
        members[static_cast<size_t>(p)].push_back(g);
      }
    }
  }
  nn::PathwayAttentionConfig cfg;
  cfg.genes = G;
  cfg.pathways = P;
  cfg.dim = d;
  cfg.heads = H;
  cfg.mask = nn::PathwayMask::Soft;
  cfg.pooled = true;
  Generator gen(52);
  nn::SparsePathwayAttention layer(cfg, members, gen);
  const int64_t nnz = layer.nnz();
  REQUIRE(nnz == P * per_pathway);
  const Tensor x = gen.uniform({N, G});
  const double dense_weight_bytes = 4.0 * N * H * P * G;

  const size_t before = cpu_allocator_stats().bytes_in_use;
  reset_cpu_peak_bytes();
  const auto out = layer.forward(x);
  const Tensor loss = sum(square(out.pooled));
  // What the graph holds until backward: the output, the [N, P, H] log-normalisers, the per-link
  // query-key products (cell-independent) and small parameter-sized pieces.
  const double held = static_cast<double>(cpu_allocator_stats().bytes_in_use - before);
  const double bound = 4.0 * (2.0 * N * P * (d + H) + 4.0 * nnz * d + 2.0 * nnz * H + 4.0 * G * d + N * P) + (1 << 20);
  INFO("held after forward " << held / 1e6 << " MB, bound " << bound / 1e6 << " MB, dense weights "
                             << dense_weight_bytes / 1e9 << " GB");
  CHECK(held <= bound);
  CHECK(held < dense_weight_bytes / 100);
  loss.backward();
  const double peak = static_cast<double>(cpu_allocator_stats().peak_bytes_in_use - before);
  INFO("peak during forward + backward " << peak / 1e6 << " MB");
  // Backward adds the [N, nnz] scratch, the [N, P, H] dots and gradients of the inputs' sizes.
  CHECK(peak <= bound + 4.0 * (N * nnz + N * P * H + 2.0 * N * G + 4.0 * nnz * d) + (1 << 20));
  CHECK(peak < dense_weight_bytes / 20);
  CHECK(std::isfinite(layer.gene_embedding.grad().to_vector<double>()[0]));
}
