#include "nn/sparse_pathway_attention.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "autograd/engine.h"
#include "autograd/error.h"
#include "autograd/rng.h"
#include "nn/mask_util.h"

namespace cg::nn {

namespace {
std::vector<std::vector<int64_t>> members_of_mask(const Tensor& mask, int64_t P, int64_t G) {
  const std::vector<float> m = mask.to_vector<float>();
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(P));
  for (int64_t p = 0; p < P; ++p)
    for (int64_t g = 0; g < G; ++g)
      if (m[static_cast<size_t>(p * G + g)] != 0.f) out[static_cast<size_t>(p)].push_back(g);
  return out;
}

std::string config_name(const PathwayAttentionConfig& c) {
  return "SparsePathwayAttention(" + std::to_string(c.genes) + " genes, " + std::to_string(c.pathways) +
         " pathways, dim " + std::to_string(c.dim) + ", " + std::to_string(c.heads) + " heads)";
}
}  // namespace

std::string SparsePathwayAttention::name() const { return config_name(config_); }

SparsePathwayAttention::SparsePathwayAttention(const PathwayAttentionConfig& config,
                                               const std::vector<std::vector<int64_t>>& members, Generator& gen,
                                               const std::vector<std::vector<int64_t>>& candidates)
    : Module("SparsePathwayAttention"), config_(config) {
  build(members, candidates, gen);
}

SparsePathwayAttention::SparsePathwayAttention(const PathwayAttentionConfig& config, const Tensor& mask,
                                               Generator& gen, const std::vector<std::vector<int64_t>>& candidates)
    : Module("SparsePathwayAttention"), config_(config) {
  CG_CHECK(config.genes > 0 && config.pathways > 0, name() << ": genes and pathways must be positive");
  const Tensor m = checked_binary_mask(name(), mask, {config.pathways, config.genes}, "[pathways, genes]");
  build(members_of_mask(m, config.pathways, config.genes), candidates, gen);
}

void SparsePathwayAttention::build(const std::vector<std::vector<int64_t>>& members,
                                   const std::vector<std::vector<int64_t>>& candidates, Generator& gen) {
  const PathwayAttentionConfig& c = config_;
  const int64_t G = c.genes, P = c.pathways, d = c.dim, H = c.heads;
  CG_CHECK(G > 0 && P > 0 && d > 0 && H > 0, name() << ": genes, pathways, dim and heads must be positive");
  CG_CHECK(d % H == 0, name() << ": dim " << d << " is not divisible by heads " << H);
  d_head_ = d / H;
  CG_CHECK(static_cast<int64_t>(members.size()) == P,
           name() << ": expected gene lists for " << P << " pathways, found " << members.size());
  const bool soft = c.mask == PathwayMask::Soft;
  CG_CHECK(candidates.empty() || soft, name() << ": candidate links need the soft mask (the hard mask has no gate)");
  CG_CHECK(candidates.empty() || static_cast<int64_t>(candidates.size()) == P,
           name() << ": expected candidate lists for " << P << " pathways (or none), found " << candidates.size());

  links_.assign(static_cast<size_t>(P), {});
  in_set_.clear();
  for (int64_t p = 0; p < P; ++p) {
    std::vector<std::pair<int64_t, uint8_t>> row;
    std::vector<int64_t> set = members[static_cast<size_t>(p)];
    std::sort(set.begin(), set.end());
    for (size_t k = 0; k < set.size(); ++k) {
      CG_CHECK(set[k] >= 0 && set[k] < G,
               name() << ": pathway " << p << " lists gene " << set[k] << ", expected an index in [0, " << G << ")");
      CG_CHECK(k == 0 || set[k] != set[k - 1], name() << ": pathway " << p << " lists gene " << set[k] << " twice");
      row.emplace_back(set[k], 1);
    }
    if (!candidates.empty())
      for (int64_t g : candidates[static_cast<size_t>(p)]) {
        CG_CHECK(g >= 0 && g < G, name() << ": pathway " << p << " has candidate gene " << g
                                         << ", expected an index in [0, " << G << ")");
        CG_CHECK(!std::binary_search(set.begin(), set.end(), g),
                 name() << ": candidate gene " << g << " of pathway " << p << " is already in its set");
        row.emplace_back(g, 0);
      }
    std::sort(row.begin(), row.end());
    for (size_t k = 1; k < row.size(); ++k)
      CG_CHECK(row[k].first != row[k - 1].first,
               name() << ": pathway " << p << " has candidate gene " << row[k].first << " twice");
    for (const auto& [g, is_set] : row) {
      links_[static_cast<size_t>(p)].push_back(g);
      in_set_.push_back(is_set);
    }
  }
  pattern_ = CsrPattern::from_rows(links_, G);

  // The dense layer's parameters, drawn in the same order.
  gene_embedding = register_parameter("gene_embedding", gen.normal({G, d}));
  queries = register_parameter("queries", gen.normal({P, d}));
  q_proj = register_module("q_proj", std::make_shared<Linear>(d, d, gen, Init::XavierUniform, false));
  k_proj = register_module("k_proj", std::make_shared<Linear>(d, d, gen, Init::XavierUniform, false));
  v_proj = register_module("v_proj", std::make_shared<Linear>(d, d, gen, Init::XavierUniform, false));
  if (soft) {
    const double floor = c.soft_mask_floor;
    CG_CHECK(floor > 0 && floor < 0.5, name() << ": soft_mask_floor must be in (0, 0.5), found " << floor);
    CG_CHECK(c.soft_mask_noise >= 0, name() << ": soft_mask_noise must be >= 0, found " << c.soft_mask_noise);
    const double hi = std::log((1 - floor) / floor);
    const int64_t nnz = pattern_.nnz;
    CG_CHECK(nnz > 0, name() << ": the soft mask needs at least one link, found none");
    std::vector<float> prior(static_cast<size_t>(nnz));
    for (size_t e = 0; e < prior.size(); ++e) prior[e] = static_cast<float>(in_set_[e] ? hi : -hi);
    const Tensor noise = mul_scalar(gen.normal({nnz}), c.soft_mask_noise);
    mask_logits = register_parameter("mask_logits", add(Tensor::from_vector(prior, {nnz}), noise));
  }
  if (c.pooled) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(d));
    pool_weight = register_parameter("pool_weight", add_scalar(mul_scalar(gen.uniform({P, d}), 2 * bound), -bound));
    pool_bias = register_parameter("pool_bias", Tensor::zeros({P}));
  }
}

Tensor SparsePathwayAttention::gate() const {
  if (config_.mask == PathwayMask::Soft) return sigmoid(mask_logits);
  return Tensor::ones({pattern_.nnz}, queries.dtype(), queries.device());
}

const CsrPattern& SparsePathwayAttention::pattern_on(Device device) {
  if (pattern_.device() != device) pattern_ = pattern_.to(device);
  return pattern_;
}

SparsePathwayAttention::Output SparsePathwayAttention::forward(const Tensor& x, bool with_attention) {
  const int64_t H = config_.heads, P = config_.pathways, G = config_.genes, d = config_.dim, dh = d_head_;
  check_pathway_layer_input(name(), x, G, queries);
  const int64_t N = x.dim(0);
  const CsrPattern& pat = pattern_on(x.device());
  const int64_t nnz = pat.nnz;

  const Tensor q = mul_scalar(q_proj->forward(queries), 1.0 / std::sqrt(static_cast<double>(dh)));
  const Tensor ke = k_proj->forward(gene_embedding), ve = v_proj->forward(gene_embedding);  // [G, d]
  // Per-link, per-head query-key dots (cell-independent): the sampled product Q K^T at the links.
  Tensor qk;
  if (nnz > 0) {
    const Tensor prod = mul(gather_rows(q, pat.entry_row), gather_rows(ke, pat.col_index));  // [nnz, d]
    qk = reshape(sum_rows(reshape(prod, {nnz * H, dh})), {nnz, H});
  } else {
    qk = Tensor::zeros({0, H}, x.dtype(), x.device());
  }
  Tensor bias;
  if (config_.mask == PathwayMask::Soft) bias = neg(softplus(neg(mask_logits)));  // log sigmoid(w)

  Output out;
  out.activities = csr_attention(x, qk, ve, bias, pat, with_attention ? &out.attention : nullptr);
  if (config_.pooled) {
    const Tensor weighted = mul(reshape(out.activities, {N, P * d}), reshape(pool_weight, {P * d}));
    out.pooled = bias_add(reshape(sum_rows(reshape(weighted, {N * P, d})), {N, P}), pool_bias);
  }
  return out;
}

std::vector<std::vector<int64_t>> coexpression_candidates(const Tensor& expression,
                                                          const std::vector<std::vector<int64_t>>& members,
                                                          int64_t k) {
  CG_CHECK(expression.defined() && expression.rank() == 2 && expression.device() == Device::CPU &&
               expression.dtype() != DType::I32,
           "coexpression_candidates: expected expression [cells, genes] as a float tensor on the cpu, found "
               << (expression.defined() ? expression.describe() : "undefined"));
  CG_CHECK(k >= 0, "coexpression_candidates: k must be >= 0, found " << k);
  const int64_t C = expression.dim(0), G = expression.dim(1), P = static_cast<int64_t>(members.size());
  CG_CHECK(C >= 2, "coexpression_candidates: need at least 2 cells to correlate genes, found " << C);
  NoGradGuard no_grad;
  // Standardise each gene over the cells (constant genes -> all zero).
  std::vector<double> z = expression.to_vector<double>();
  std::vector<bool> constant(static_cast<size_t>(G), false);
  for (int64_t g = 0; g < G; ++g) {
    double mean = 0, sq = 0;
    for (int64_t i = 0; i < C; ++i) mean += z[static_cast<size_t>(i * G + g)];
    mean /= static_cast<double>(C);
    for (int64_t i = 0; i < C; ++i) sq += std::pow(z[static_cast<size_t>(i * G + g)] - mean, 2);
    const double sd = std::sqrt(sq / static_cast<double>(C));
    constant[static_cast<size_t>(g)] = !(sd > 1e-12 * (std::abs(mean) + 1));
    for (int64_t i = 0; i < C; ++i) {
      double& v = z[static_cast<size_t>(i * G + g)];
      v = constant[static_cast<size_t>(g)] ? 0.0 : (v - mean) / sd;
    }
  }
  // Mean member profile per pathway, then scores[g, p] = mean over members s of corr(g, s).
  std::vector<double> avg(static_cast<size_t>(G * P), 0.0);
  for (int64_t p = 0; p < P; ++p) {
    const auto& set = members[static_cast<size_t>(p)];
    for (int64_t g : set) {
      CG_CHECK(g >= 0 && g < G, "coexpression_candidates: pathway " << p << " lists gene " << g
                                                                    << ", expected an index in [0, " << G << ")");
      avg[static_cast<size_t>(g * P + p)] += 1.0 / static_cast<double>(set.size());
    }
  }
  const Tensor Z = Tensor::from_vector(z, {C, G});
  const Tensor profiles = matmul(Z, Tensor::from_vector(avg, {G, P}));                                  // [C, P]
  const std::vector<double> scores = mul_scalar(matmul(Z, profiles, true, false), 1.0 / C).to_vector<double>();  // [G, P]
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(P));
  std::vector<int64_t> order;
  for (int64_t p = 0; p < P; ++p) {
    const auto& set = members[static_cast<size_t>(p)];
    if (set.empty() || k == 0) continue;
    std::vector<bool> in(static_cast<size_t>(G), false);
    for (int64_t g : set) in[static_cast<size_t>(g)] = true;
    order.clear();
    for (int64_t g = 0; g < G; ++g)
      if (!in[static_cast<size_t>(g)] && !constant[static_cast<size_t>(g)] && scores[static_cast<size_t>(g * P + p)] > 0)
        order.push_back(g);
    const auto better = [&](int64_t a, int64_t b) {
      const double sa = scores[static_cast<size_t>(a * P + p)], sb = scores[static_cast<size_t>(b * P + p)];
      return sa != sb ? sa > sb : a < b;
    };
    const size_t keep = std::min(order.size(), static_cast<size_t>(k));
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(), better);
    out[static_cast<size_t>(p)].assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep));
    std::sort(out[static_cast<size_t>(p)].begin(), out[static_cast<size_t>(p)].end());
  }
  return out;
}

}  // namespace cg::nn
