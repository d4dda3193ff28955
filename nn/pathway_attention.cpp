#include "nn/pathway_attention.h"

#include <cmath>
#include <limits>
#include <vector>

#include "autograd/engine.h"
#include "autograd/error.h"
#include "autograd/ops.h"
#include "nn/mask_util.h"

namespace cg::nn {

namespace {
// Fill value for logits outside a hard mask: finite, so that a row with no allowed entry gives
// a finite (uniform) softmax instead of NaN, and so negative that exp(fill - row max) is exactly
// 0 in float32 and float64 whenever the row has an allowed entry.
constexpr double kMaskedLogit = -1e30;

// [P, G] -> [heads * P * G]: the same values repeated per head, laid out to broadcast as a row
// vector over the [N, heads * P * G] view of the logits.
Tensor tile_per_head(const Tensor& pg, int64_t heads) {
  const Tensor row = reshape(pg, {1, pg.numel()});
  return reshape(concat(std::vector<Tensor>(static_cast<size_t>(heads), row), 0), {heads * pg.numel()});
}
}  // namespace

std::string PathwayAttention::name() const {
  return "PathwayAttention(" + std::to_string(config_.genes) + " genes, " + std::to_string(config_.pathways) +
         " pathways, dim " + std::to_string(config_.dim) + ", " + std::to_string(config_.heads) + " heads)";
}

PathwayAttention::PathwayAttention(const PathwayAttentionConfig& config, const Tensor& mask_in, Generator& gen)
    : Module("PathwayAttention"), config_(config) {
  const int64_t G = config.genes, P = config.pathways, d = config.dim, H = config.heads;
  CG_CHECK(G > 0 && P > 0 && d > 0 && H > 0, name() << ": genes, pathways, dim and heads must be positive");
  CG_CHECK(d % H == 0, name() << ": dim " << d << " is not divisible by heads " << H);
  d_head_ = d / H;
  mask = register_buffer("mask", checked_binary_mask(name(), mask_in, {P, G}, "[pathways, genes]"));
  {
    const std::vector<float> m = mask.to_vector<float>();
    for (int64_t p = 0; p < P && !has_empty_pathway_; ++p) {
      bool any = false;
      for (int64_t g = 0; g < G && !any; ++g) any = m[static_cast<size_t>(p * G + g)] != 0.f;
      has_empty_pathway_ = !any;
    }
  }

  // N(0, 1) like torch.nn.Embedding; the Xavier projections then give logits of order
  // sqrt(d_head) * x / 3 at init.
  gene_embedding = register_parameter("gene_embedding", gen.normal({G, d}));
  queries = register_parameter("queries", gen.normal({P, d}));
  // Xavier uniform as in torch.nn.MultiheadAttention's in-projection.
  q_proj = register_module("q_proj", std::make_shared<Linear>(d, d, gen, Init::XavierUniform, false));
  k_proj = register_module("k_proj", std::make_shared<Linear>(d, d, gen, Init::XavierUniform, false));
  v_proj = register_module("v_proj", std::make_shared<Linear>(d, d, gen, Init::XavierUniform, false));

  if (config.mask == PathwayMask::Soft) {
    const double floor = config.soft_mask_floor;
    CG_CHECK(floor > 0 && floor < 0.5, name() << ": soft_mask_floor must be in (0, 0.5), found " << floor);
    CG_CHECK(config.soft_mask_noise >= 0, name() << ": soft_mask_noise must be >= 0, found " << config.soft_mask_noise);
    const double hi = std::log((1 - floor) / floor);  // logit(1 - floor); logit(floor) = -hi
    Tensor prior = add_scalar(mul_scalar(mask, 2 * hi), -hi);
    mask_logits = register_parameter("mask_logits", add(prior, mul_scalar(gen.normal({P, G}), config.soft_mask_noise)));
  }
  if (config.pooled) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(d));  // torch Linear(d, 1) default
    pool_weight = register_parameter("pool_weight", add_scalar(mul_scalar(gen.uniform({P, d}), 2 * bound), -bound));
    pool_bias = register_parameter("pool_bias", Tensor::zeros({P}));
  }
}

Tensor PathwayAttention::gate() const { return config_.mask == PathwayMask::Soft ? sigmoid(mask_logits) : mask; }

void PathwayAttention::prepare_indices(int64_t n, Device device) {
  if (n == cached_n_ && device == cached_device_ && idx_out_.defined()) return;
  const int64_t H = config_.heads, P = config_.pathways, G = config_.genes;
  CG_CHECK(n * G < std::numeric_limits<int32_t>::max() && n * H * P < std::numeric_limits<int32_t>::max(),
           name() << ": batch of " << n << " cells is too large for int32 gather indices");
  std::vector<int32_t> q, gh, ex, out;
  q.reserve(static_cast<size_t>(n * H * P));
  gh.reserve(static_cast<size_t>(n * H * G));
  ex.reserve(static_cast<size_t>(n * H * G));
  out.reserve(static_cast<size_t>(n * H * P));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t h = 0; h < H; ++h) {
      // Row (i, h, p) of the per-head queries is row p * H + h of Q viewed as [P * H, d_head].
      for (int64_t p = 0; p < P; ++p) q.push_back(static_cast<int32_t>(p * H + h));
      for (int64_t g = 0; g < G; ++g) {
        gh.push_back(static_cast<int32_t>(g * H + h));  // head h's slice of gene g's key/value
        ex.push_back(static_cast<int32_t>(i * G + g));  // x[i, g]
      }
    }
  // (i, p, h) <- row (i * H + h) * P + p of the bmm output [N * H, P, d_head]: heads side by side.
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = 0; p < P; ++p)
      for (int64_t h = 0; h < H; ++h) out.push_back(static_cast<int32_t>((i * H + h) * P + p));
  idx_query_ = Tensor::from_indices(q, device);
  idx_gene_head_ = Tensor::from_indices(gh, device);
  idx_expr_ = Tensor::from_indices(ex, device);
  idx_out_ = Tensor::from_indices(out, device);
  cached_n_ = n;
  cached_device_ = device;
}

void check_pathway_layer_input(const std::string& layer, const Tensor& x, int64_t genes, const Tensor& like) {
  CG_CHECK(x.defined() && x.rank() == 2 && x.dim(1) == genes && x.dim(0) > 0,
           layer << ": expected expression [N, " << genes << "], found " << (x.defined() ? x.describe() : "undefined"));
  CG_CHECK(x.dtype() == like.dtype() && x.device() == like.device(),
           layer << ": input " << x.describe() << " does not match the parameters' " << like.describe()
                 << " (move or convert the module or the input)");
}

PathwayAttention::Output PathwayAttention::forward(const Tensor& x) {
  const int64_t H = config_.heads, P = config_.pathways, G = config_.genes, d = config_.dim, dh = d_head_;
  check_pathway_layer_input(name(), x, G, queries);
  const int64_t N = x.dim(0);
  prepare_indices(N, x.device());

  // Scale folded into the small [P, d] queries rather than the [N, H, P, G] logits.
  const Tensor q = mul_scalar(q_proj->forward(queries), 1.0 / std::sqrt(static_cast<double>(dh)));
  const Tensor ke = k_proj->forward(gene_embedding), ve = v_proj->forward(gene_embedding);  // [G, d]
  // Per (cell, head) batches: queries [N*H, P, dh]; keys/values of the tokens, x[i, g] * (E W^T)[g].
  const Tensor qh = reshape(gather_rows(reshape(q, {P * H, dh}), idx_query_), {N * H, P, dh});
  const Tensor xs = gather_rows(reshape(x, {N * G, 1}), idx_expr_);  // [N*H*G, 1]
  const Tensor k = reshape(mul(gather_rows(reshape(ke, {G * H, dh}), idx_gene_head_), xs), {N * H, G, dh});
  const Tensor v = reshape(mul(gather_rows(reshape(ve, {G * H, dh}), idx_gene_head_), xs), {N * H, G, dh});

  Tensor logits = reshape(bmm(qh, k, false, true), {N, H * P * G});
  Tensor keep;  // M tiled over heads, only needed for empty pathways (hard mask)
  if (config_.mask == PathwayMask::Hard) {
    Tensor outside;
    {
      NoGradGuard no_grad;
      outside = tile_per_head(add_scalar(mul_scalar(mask, -1.0), 1.0), H);
      if (has_empty_pathway_) keep = tile_per_head(mask, H);
    }
    logits = masked_fill(logits, outside, kMaskedLogit);
  } else {
    // log sigmoid(W) = -softplus(-W): softmax(logits + log gate) = gate * e^logits / sum(...).
    logits = add(logits, tile_per_head(neg(softplus(neg(mask_logits))), H));
  }
  Tensor attn = softmax_rows(reshape(logits, {N * H * P, G}));
  // Exact for non-empty rows (their out-of-set weights are already 0); zeros the uniform rows
  // of empty pathways.
  if (keep.defined()) attn = mul(reshape(attn, {N, H * P * G}), keep);

  const Tensor o = bmm(reshape(attn, {N * H, P, G}), v);  // [N*H, P, dh]
  Output out;
  out.activities = reshape(gather_rows(reshape(o, {N * H * P, dh}), idx_out_), {N, P, d});
  out.attention = reshape(attn, {N, H, P, G});
  if (config_.pooled) {
    const Tensor weighted = mul(reshape(out.activities, {N, P * d}), reshape(pool_weight, {P * d}));
    out.pooled = bias_add(reshape(sum_rows(reshape(weighted, {N * P, d})), {N, P}), pool_bias);
  }
  return out;
}

}  // namespace cg::nn
