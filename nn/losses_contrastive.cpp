// NT-Xent (SimCLR) and UnitedNet's contrastive loss. Both pick entries of a similarity matrix
// with host-built constant masks and a row-wise log-softmax, so the gradient reaches every
// latent through ordinary ops.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "autograd/error.h"
#include "autograd/ops.h"
#include "autograd/rng.h"
#include "nn/losses_internal.h"

namespace cg::nn {
namespace {

// Logit offset for excluded columns: exp() of it is exactly 0 in float and double, yet it stays
// finite, so 0 * log-softmax there is 0 rather than NaN (as -inf would give).
constexpr double kExcluded = -1e9;

// cos(z_i, z_j) / temperature for all rows of z.
Tensor cosine_logits(const Tensor& z, double temperature) {
  const Tensor h = l2_normalize_rows(z);
  return mul_scalar(matmul(h, h, false, true), 1.0 / temperature);
}

}  // namespace

Tensor nt_xent(const Tensor& z1, const Tensor& z2, double temperature) {
  const char* name = "nt_xent";
  detail::check_same_shape(name, "z1", z1, "z2", z2);
  detail::check_rank(name, "z1", z1, 2);
  detail::check_nonempty(name, "z1", z1);
  CG_CHECK(temperature > 0 && std::isfinite(temperature),
           "loss '" << name << "': temperature must be positive, found " << temperature);
  const int64_t n = z1.dim(0), rows = 2 * n;
  std::vector<double> self(static_cast<size_t>(rows * rows), 0.0), partner(self.size(), 0.0);
  for (int64_t i = 0; i < rows; ++i) {
    self[static_cast<size_t>(i * rows + i)] = 1.0;
    partner[static_cast<size_t>(i * rows + (i + n) % rows)] = 1.0;
  }
  const Tensor logits = masked_fill(cosine_logits(concat({z1, z2}, 0), temperature),
                                    detail::constant_like(self, {rows, rows}, z1), kExcluded);
  const Tensor picked = mul(log_softmax_rows(logits), detail::constant_like(partner, {rows, rows}, z1));
  return mul_scalar(sum(picked), -1.0 / static_cast<double>(rows));
}

Tensor unitednet_contrastive(const std::vector<Tensor>& latents, const Tensor& predicted_labels, Generator& gen,
                             double temperature, double negative_fraction) {
  const char* name = "unitednet_contrastive";
  CG_CHECK(!latents.empty(), "loss '" << name << "': no modality latents were given");
  for (size_t m = 0; m < latents.size(); ++m) {
    detail::check_rank(name, "a latent", latents[m], 2);
    detail::check_same_shape(name, "latent 0", latents[0], ("latent " + std::to_string(m)).c_str(), latents[m]);
  }
  detail::check_nonempty(name, "latent 0", latents[0]);
  CG_CHECK(temperature > 0 && std::isfinite(temperature),
           "loss '" << name << "': temperature must be positive, found " << temperature);
  CG_CHECK(negative_fraction > 0 && std::isfinite(negative_fraction),
           "loss '" << name << "': negative_fraction must be positive, found " << negative_fraction);
  const int64_t n = latents[0].dim(0), m_count = static_cast<int64_t>(latents.size()), rows = m_count * n;
  const std::vector<int32_t> pred = detail::host_labels(name, predicted_labels, n, -1);

  // Rows whose cell has a different predicted class, per class: the pool negatives come from.
  std::unordered_map<int32_t, std::vector<int32_t>> pool;
  for (int32_t c : pred) pool.emplace(c, std::vector<int32_t>{});
  if (m_count == 1 || pool.size() < 2) return Tensor::zeros({1}, latents[0].dtype(), latents[0].device());
  for (auto& [c, cols] : pool)
    for (int64_t j = 0; j < rows; ++j)
      if (pred[static_cast<size_t>(j % n)] != c) cols.push_back(static_cast<int32_t>(j));

  // One term per ordered modality pair (a, b), a != b, and cell i. Each term's softmax runs
  // over all rows with log-multiplicity offsets: 0 for the positive, log(k) for a row drawn k
  // times as a negative, kExcluded for the rest, which equals UnitedNet's
  // cross_entropy([pos, neg_1..neg_K], 0) with repeated draws.
  const int64_t terms = m_count * (m_count - 1) * n;
  const int64_t draws = std::max<int64_t>(1, static_cast<int64_t>(negative_fraction * static_cast<double>(rows)));
  std::vector<int32_t> anchor;
  anchor.reserve(static_cast<size_t>(terms));
  std::vector<double> multiplicity(static_cast<size_t>(terms * rows), 0.0), positive(multiplicity.size(), 0.0);
  int64_t t = 0;
  for (int64_t a = 0; a < m_count; ++a)
    for (int64_t b = 0; b < m_count; ++b) {
      if (a == b) continue;
      for (int64_t i = 0; i < n; ++i, ++t) {
        anchor.push_back(static_cast<int32_t>(a * n + i));
        double* mult = multiplicity.data() + t * rows;
        mult[b * n + i] = 1.0;
        positive[static_cast<size_t>(t * rows + b * n + i)] = 1.0;
        const std::vector<int32_t>& cols = pool.at(pred[static_cast<size_t>(i)]);
        for (int64_t k = 0; k < draws; ++k) mult[cols[gen.next_below(static_cast<uint32_t>(cols.size()))]] += 1.0;
      }
    }
  for (double& v : multiplicity) v = v > 0 ? std::log(v) : kExcluded;

  const Tensor logits = cosine_logits(concat(latents, 0), temperature);
  const Tensor index = Tensor::from_indices(anchor, latents[0].device());
  const Tensor term_logits =
      add(gather_rows(logits, index), detail::constant_like(multiplicity, {terms, rows}, logits));
  const Tensor picked = mul(log_softmax_rows(term_logits), detail::constant_like(positive, {terms, rows}, logits));
  return mul_scalar(sum(picked), -1.0 / static_cast<double>(terms));
}

}  // namespace cg::nn
