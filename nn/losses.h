#pragma once
// Loss functions. Each returns a one-element tensor ([1]) for Reduction::Mean/Sum, built from
// differentiable ops so gradients reach every floating-point input (targets included, as in
// PyTorch); Reduction::None returns the unreduced values (see each function for their shape).
// Bad inputs (shapes, label ranges, negative counts...) throw cg::Error naming the loss and what
// was found. Implementations are split by family: losses_regression.cpp (MSE, BCE, LSGAN),
// losses_classification.cpp (cross-entropy), losses_likelihood.cpp (KL, NB, ZINB),
// losses_contrastive.cpp (NT-Xent, UnitedNet), losses_check.cpp (input checks, NaN guard).
#include <cstdint>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace cg {
class Generator;
}

namespace cg::nn {

enum class Reduction { Mean, Sum, None };

// ---- regression and binary targets (losses_regression.cpp) --------------------------------------
// Elementwise losses: Mean averages over all elements, None returns pred's shape (PyTorch).
Tensor mse_loss(const Tensor& pred, const Tensor& target, Reduction reduction = Reduction::Mean);
// -[t log p + (1 - t) log(1 - p)] with each log's argument clamped below at kBceEps, so p = 0 or
// 1 gives a finite loss and a zero (not NaN) gradient there. Throws if p leaves [0, 1].
inline constexpr double kBceEps = 1e-7;
Tensor bce_loss(const Tensor& prob, const Tensor& target, Reduction reduction = Reduction::Mean);
// The stable logit form: max(x, 0) - x t + log(1 + exp(-|x|)) = softplus(x) - x t.
Tensor bce_with_logits_loss(const Tensor& logits, const Tensor& target, Reduction reduction = Reduction::Mean);

// Least-squares GAN (Mao et al. 2017) in UnitedNet's form, without the paper's factor 1/2:
// discriminator MSE(d_real, 1) + MSE(d_fake, 0); generator MSE(d_fake, 1). MSE averages over
// all elements; d_real and d_fake may have different batch sizes. The caller detaches the fake
// samples for the discriminator step and averages over modalities.
Tensor lsgan_discriminator_loss(const Tensor& d_real, const Tensor& d_fake);
Tensor lsgan_generator_loss(const Tensor& d_fake);

// ---- classification (losses_classification.cpp) ------------------------------------------------
// logits [N, K], labels int32 [N] in [0, K), class_weights [K] (optional, constants, >= 0).
// loss_i = -w[y_i] log softmax(logits_i)[y_i]. Mean divides the weighted sum by the sum of the
// batch's weights sum_i w[y_i] (PyTorch); it throws if that sum is 0. None returns [N].
Tensor cross_entropy(const Tensor& logits, const Tensor& labels, const Tensor& class_weights = Tensor(),
                     Reduction reduction = Reduction::Mean);
// Balanced weights c_k = n / (K n_k) (sklearn "balanced") from int32 labels in [0, K), as a
// float32 [K] CPU tensor. A class absent from `labels` gets weight 0: it has no samples to
// balance, and a 0 keeps an unseen class from ever dominating a batch's weighted mean.
Tensor balanced_class_weights(const Tensor& labels, int64_t num_classes);

// ---- VAE terms and count likelihoods (losses_likelihood.cpp) ---------------------------------------
// How the KL of one cell combines its latent units: Sum is the true KL (scVI, scGen); Mean
// divides it by the latent width (scButterfly).
enum class KlUnits { Sum, Mean };
// KL(N(mu, exp(logvar)) || N(0, I)) per cell = -0.5 sum_j (1 + logvar - mu^2 - exp(logvar)),
// times beta. mu, logvar [N, d]. Mean: over cells; None: [N].
Tensor gaussian_kl(const Tensor& mu, const Tensor& logvar, double beta = 1.0, KlUnits units = KlUnits::Sum,
                   Reduction reduction = Reduction::Mean);

// Negative log-likelihood of raw counts x [N, G] under NB(mean mu, inverse dispersion theta),
// as scVI's log_nb_positive (log space, eps inside every log):
//   -[theta (log(theta+eps) - log(theta+mu+eps)) + x (log(mu+eps) - log(theta+mu+eps))
//     + lgamma(x+theta) - lgamma(theta) - lgamma(x+1)]
// summed over genes per cell. mu [N, G] > 0; theta > 0 is [G] or [1, G] (a learned per-gene
// dispersion, e.g. exp(log_theta)) or [N, G]. x must be >= 0 (non-integers are allowed, as in
// scVI). Mean: over cells of the per-cell sums; None: [N].
inline constexpr double kCountEps = 1e-8;
Tensor nb_nll(const Tensor& x, const Tensor& mu, const Tensor& theta, Reduction reduction = Reduction::Mean,
              double eps = kCountEps);
// Zero-inflated NB, as scVI's log_zinb_positive: pi_logits [N, G] (or a row) are the logits of
// the dropout probability. Entries with x < eps use log(pi + (1 - pi) NB(0)), the others
// log((1 - pi) NB(x)), both in softplus form.
Tensor zinb_nll(const Tensor& x, const Tensor& mu, const Tensor& theta, const Tensor& pi_logits,
                Reduction reduction = Reduction::Mean, double eps = kCountEps);

// ---- contrastive (losses_contrastive.cpp) --------------------------------------------------------------
// NT-Xent (SimCLR) / InfoNCE: z1, z2 [N, d] are paired rows. The 2N rows are L2-normalised,
// s = cos / temperature over all 2N x 2N pairs with self-similarity masked out; row i's
// positive is its partner (i +- N) and every other row is a negative; mean over the 2N rows of
// -log softmax(s_i)[partner].
Tensor nt_xent(const Tensor& z1, const Tensor& z2, double temperature = 0.5);
inline Tensor info_nce(const Tensor& z1, const Tensor& z2, double temperature = 0.5) {
  return nt_xent(z1, z2, temperature);
}

// UnitedNet's contrastive loss. latents: one [N, d] projected latent per modality (M >= 2),
// rows aligned by cell; predicted_labels int32 [N] (the classification head's argmax).
// s = cos / temperature between all M*N rows. One term per ordered pair of modalities (a, b),
// a != b, and cell i: anchor row a*N+i, positive b*N+i, and floor(negative_fraction * M * N)
// (at least 1) negatives drawn uniformly with replacement by `gen` among the rows whose cell
// has a different predicted class (a row drawn twice counts twice, as torch.multinomial with
// replacement does in UnitedNet). loss = mean over the M(M-1)N terms of
// -log(e^pos / (e^pos + sum e^neg)). With M == 1 or a single predicted class there are no
// negatives: the loss is a constant 0 (UnitedNet skips the term then).
Tensor unitednet_contrastive(const std::vector<Tensor>& latents, const Tensor& predicted_labels, Generator& gen,
                             double temperature = 0.1, double negative_fraction = 0.25);

// ---- distribution matching (losses_mmd.cpp) --------------------------------------------------------
// Squared maximum mean discrepancy between the samples X [n, d] and Y [m, d] (n, m >= 2) with a
// sum of RBF kernels k(a, b) = sum_s exp(-|a - b|^2 / (2 sigma_s^2)), unbiased estimator (the
// U-statistic: the i == j terms of the within-sample sums are left out):
//   MMD^2_u = sum_{i != j} k(x_i, x_j) / (n (n - 1)) + sum_{i != j} k(y_i, y_j) / (m (m - 1))
//             - 2 sum_{i, j} k(x_i, y_j) / (n m)                                        -> [1]
// Why unbiased: its expectation is exactly MMD^2, 0 when the two distributions agree whatever
// the batch sizes, so a logged or weighted term (uncertainty, DWA) does not carry the biased
// estimator's positive offset of order 1/n + 1/m that changes with the batch size; it can be
// slightly negative on a finite batch. Gradients reach X and Y; the bandwidths are constants.
// bandwidths: the sigma_s (> 0); empty = mmd_median_bandwidths(X, Y).
Tensor mmd_rbf(const Tensor& X, const Tensor& Y, const std::vector<double>& bandwidths = {});
// The default bandwidths: the median pairwise Euclidean distance between the rows of X and Y
// pooled (over pairs i < j, numpy.median's middle value), times each of `multiples`, computed
// from the values without gradient. 1 stands in for a median of 0 (all rows equal).
inline const std::vector<double> kMmdMedianMultiples{0.25, 0.5, 1.0, 2.0, 4.0};
std::vector<double> mmd_median_bandwidths(const Tensor& X, const Tensor& Y,
                                          const std::vector<double>& multiples = kMmdMedianMultiples);
// One line for a loss-term registry entry (name "mmd_rbf").
inline constexpr const char* kMmdRbfDescription =
    "unbiased squared MMD between two samples, sum of RBF kernels at 0.25-4x the median pairwise distance";

// ---- divergence guard (losses_check.cpp) -----------------------------------------------------------------
// Throws cg::Error naming `term` when any value of `loss` is NaN or infinite (training loops
// call it on every term so a diverging run stops with the culprit's name).
void check_finite_loss(const Tensor& loss, const std::string& term);

}  // namespace cg::nn
