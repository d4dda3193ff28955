#pragma once
// SparsePathwayAttention: the masked gene-to-pathway attention of nn/pathway_attention.h (same
// definition, parameters and initialisation; that dense layer stays the reference) computed only
// at the gene-pathway links, stored as CSR over pathways (row p = the genes of pathway p). Memory
// grows with the links, not with pathways x genes:
//   dense:  N * heads * P * G attention weights (and several intermediates of that size), plus
//           per-cell keys and values N * G * d each;
//   sparse: cell-independent per-link query-key dots (nnz * d while they are built, nnz * heads
//           kept) and, per cell, the output N * P * d plus N * P * heads log-normalisers kept for
//           backward (csr_attention recomputes the weights). The backward's scratch is N * nnz.
// With 7,000 genes, 500 pathways at 2% density (70,000 links), 8 heads, d = 128 and 256 cells the
// dense weights alone are 28.7 GB in float32; the sparse layer's whole forward + backward step
// peaks at ~0.4 GB of tensors (bench_pathway_attention), most of it cell-independent link terms,
// the [N, P, d] output and the gradients.
//
// Masks:
//  - Hard: the support is each pathway's gene set; weights outside it do not exist (exactly 0
//    in the dense picture). An empty pathway gives zero activities, as in the dense layer.
//  - Soft: a learned gate sigmoid(w_e) per link e over the set's genes PLUS a candidate set of
//    genes outside it, multiplying the weights before renormalisation (log gate added to the
//    score, as in the dense layer). Gates start at the prior: w = logit(1 - floor) for set genes,
//    logit(floor) for candidates, plus N(0, noise^2); so the layer can open links the gene sets
//    miss without going dense. Genes that are neither in the set nor candidates have gate 0.
//    The candidate choice used here is coexpression_candidates() below: per pathway the k genes
//    outside it most correlated with its members on training cells (any other per-pathway gene
//    lists may be passed).
#include <memory>
#include <vector>

#include "autograd/ops.h"
#include "nn/pathway_attention.h"

namespace cg::nn {

class SparsePathwayAttention : public Module {
 public:
  struct Output {
    Tensor activities;  // [N, P, d]
    Tensor pooled;      // [N, P] when config.pooled, else undefined
    Tensor attention;   // [N, heads, nnz] in link order (see links()), only when asked; not differentiable
  };
  // members[p]: the gene indices (columns of x) of pathway p's set; candidates[p] (soft mask
  // only; empty = none): genes outside the set whose links the gate may open. config.pathways must
  // equal members.size(). Errors name the layer and what was expected and found.
  SparsePathwayAttention(const PathwayAttentionConfig& config, const std::vector<std::vector<int64_t>>& members,
                         Generator& gen, const std::vector<std::vector<int64_t>>& candidates = {});
  // The dense layer's interface: mask [pathways, genes] of 0/1.
  SparsePathwayAttention(const PathwayAttentionConfig& config, const Tensor& mask, Generator& gen,
                         const std::vector<std::vector<int64_t>>& candidates = {});

  Output forward(const Tensor& x, bool with_attention = false);  // x [N, genes]
  // Per link: sigmoid(w) (soft mask) or 1 (hard), [nnz] in link order.
  Tensor gate() const;
  // The links in order: links()[p] lists pathway p's genes (set genes and candidates) ascending;
  // link e is the e-th entry of that list read row after row.
  const std::vector<std::vector<int64_t>>& links() const { return links_; }
  // Per link, whether it is in the pathway's set (1) or a candidate (0).
  const std::vector<uint8_t>& in_set() const { return in_set_; }
  int64_t nnz() const { return pattern_.nnz; }
  const PathwayAttentionConfig& config() const { return config_; }

  Tensor gene_embedding;                           // E [G, d]
  Tensor queries;                                  // [P, d]
  std::shared_ptr<Linear> q_proj, k_proj, v_proj;  // [d, d], no bias
  Tensor mask_logits;                              // w [nnz] (soft mask only)
  Tensor pool_weight, pool_bias;                   // u [P, d], b [P] (pooled only)

 private:
  std::string name() const;
  void build(const std::vector<std::vector<int64_t>>& members, const std::vector<std::vector<int64_t>>& candidates,
             Generator& gen);
  const CsrPattern& pattern_on(Device device);

  PathwayAttentionConfig config_;
  int64_t d_head_ = 0;
  std::vector<std::vector<int64_t>> links_;
  std::vector<uint8_t> in_set_;
  CsrPattern pattern_;  // on the device of the last forward
};

// Candidate links for the soft mask, from expression on training cells (expression [cells,
// genes], float32 or float64 on the CPU): for each pathway, the k genes outside its set with the
// highest mean Pearson correlation to the set's genes (= correlation with the mean standardised
// profile of the members, up to a positive factor), keeping only positive ones; genes constant
// over the cells are never chosen. Ties go to the lower gene index. Empty sets get none.
std::vector<std::vector<int64_t>> coexpression_candidates(const Tensor& expression,
                                                          const std::vector<std::vector<int64_t>>& members,
                                                          int64_t k);

}  // namespace cg::nn
