#pragma once
// PathwayAttention: multi-head cross-attention from P learnable pathway queries to G gene
// tokens, restricted to each pathway's gene set (the masked gene-to-pathway attention design: gene tokens,
// pathway queries, a pathway mask).
//
//   token_{n,g} = E_g * x_{n,g}                  gene embedding E [G, d] scaled by expression
//   Q = queries W_q^T [P, d],  K_n = tokens_n W_k^T,  V_n = tokens_n W_v^T   (no biases)
//   per head h (d = heads * d_head):
//     A_{n,h} = softmax_g(Q_h K_{n,h}^T / sqrt(d_head)  (+ mask))           [P, G]
//     O_{n,h} = A_{n,h} V_{n,h}                                               [P, d_head]
//   activities_{n,p} = concat_h O_{n,h,p}                                     [N, P, d]
//   pooled_{n,p} = <activities_{n,p}, u_p> + b_p   (optional; a separate d -> 1 readout per
//                                                    pathway, so each pathway has its own score)
//
// Masks (M [P, G], 1 = gene in the pathway's set):
//  - Hard: logits outside the set are replaced by a large negative number before the softmax,
//    so those weights are exactly 0. A pathway with no genes would get a uniform softmax over
//    masked logits; its weights are multiplied by M, giving zeros (and zero activities), not
//    NaN. (A literal -inf fill would give exp(-inf + inf) = NaN for such rows.)
//  - Soft: the weights are multiplied by a learned gate sigmoid(W_mask) [P, G] and renormalised,
//    computed stably as adding log sigmoid(W_mask) = -softplus(-W_mask) to the logits. The gate
//    starts at the prior: W_mask = logit(clip(M, floor, 1 - floor)) + noise; (the design's
//    literal "M + eps" start gives sigmoid(1) = 0.73 vs sigmoid(0) = 0.5, nearly no prior). At
//    init an out-of-set gene is down-weighted by (1 - floor) / floor = 19 for floor 0.05; with
//    thousands of genes and small sets the out-of-set mass can still dominate, so large panels
//    may want a smaller floor.
//
// Why no projection biases: tokens are linear in x, so K_n = diag(x_n) (E W_k^T); the layer
// computes E W_k^T and E W_v^T once ([G, d], G d^2 flops) and scales rows by x, instead of
// projecting N * G tokens (N G d^2 flops). A key bias would add a constant per (p, head) to the
// logits, which the softmax ignores; a value bias would only shift every activity by a constant.
// It also means a gene with zero expression contributes a zero value vector.
//
// Memory: the attention weights are N * heads * P * G values (returned, and several
// intermediates of that size are kept for backward); keys and values are N * G * d each.
#include <memory>

#include "nn/layers.h"

namespace cg::nn {

enum class PathwayMask { Hard, Soft };

struct PathwayAttentionConfig {
  int64_t genes = 0;
  int64_t pathways = 0;
  int64_t dim = 128;  // d, split over the heads
  int64_t heads = 8;
  PathwayMask mask = PathwayMask::Hard;
  bool pooled = false;            // also compute the [N, P] per-pathway readout
  double soft_mask_floor = 0.05;  // soft mask prior: sigmoid(W_mask) starts at clip(M, floor, 1 - floor)
  double soft_mask_noise = 0.01;  // std of the normal noise added to logit(clip(M)) at init
};

class PathwayAttention : public Module {
 public:
  struct Output {
    Tensor activities;  // [N, P, d]
    Tensor pooled;      // [N, P] when config.pooled, else undefined
    Tensor attention;   // [N, heads, P, G]; each row sums to 1 (0 for an empty pathway, hard mask)
  };
  // mask: [pathways, genes] of 0/1 (checked; errors name the layer and both shapes).
  PathwayAttention(const PathwayAttentionConfig& config, const Tensor& mask, Generator& gen);
  Output forward(const Tensor& x);  // x [N, genes], e.g. log-normalised expression
  // sigmoid(W_mask) [P, G] (soft mask), or the fixed mask (hard), for inspection.
  Tensor gate() const;
  const PathwayAttentionConfig& config() const { return config_; }

  Tensor gene_embedding;                           // E [G, d]
  Tensor queries;                                  // [P, d]
  std::shared_ptr<Linear> q_proj, k_proj, v_proj;  // [d, d], no bias
  Tensor mask;                                     // buffer [P, G]
  Tensor mask_logits;                              // W_mask [P, G] (soft mask only)
  Tensor pool_weight, pool_bias;                   // u [P, d], b [P] (pooled only)

 private:
  std::string name() const;
  // Int32 gather indices that depend only on the batch size and device, rebuilt when either
  // changes (see forward for their meaning).
  void prepare_indices(int64_t n, Device device);

  PathwayAttentionConfig config_;
  int64_t d_head_;
  bool has_empty_pathway_ = false;
  int64_t cached_n_ = -1;
  Device cached_device_ = Device::CPU;
  Tensor idx_query_, idx_gene_head_, idx_expr_, idx_out_;
};

// The input check both pathway attention layers (dense and sparse) make: expression [N > 0, genes]
// with the dtype and device of `like` (a parameter); cg::Error naming `layer` otherwise.
void check_pathway_layer_input(const std::string& layer, const Tensor& x, int64_t genes, const Tensor& like);

}  // namespace cg::nn
