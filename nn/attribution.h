#pragma once
// Per-output feature attributions of a differentiable map f: [N, F_in] -> [N, F_out], computed
// with the engine's own reverse mode:
//
//   integrated gradients (Sundararajan et al. 2017), per cell n, feature i, output o:
//     IG[n,i,o] = (x - x')[n,i] * integral_0^1 d f_o(x' + a (x - x'))[n] / d x_i da
//   with the integral taken by a fixed quadrature rule over `steps` values of a (see IGRule).
//   Completeness: sum_i IG[n,i,o] ~= f_o(x_n) - f_o(x'_n) (exact for the exact integral).
//
//   expected gradients (Erion et al. 2021, a SHAP approximation), per cell n:
//     EG[n,i,o] = mean over k of (x_n - b_k)[i] * d f_o(b_k + a_k (x_n - b_k)) / d x_i
//   with b_k a random row of a background set (reference cells) and a_k ~ U(0, 1), drawn
//   independently per cell and sample from the given Generator. In expectation
//   sum_i EG[n,i,o] = f_o(x_n) - E_b[f_o(b)].
//
// How it is computed: the interpolation points of several path steps are stacked into one
// batch (up to max_rows rows), f runs once per batch, and each output's gradient comes from one
// backward of that batch (retain_graph) seeded with the one-hot column o. That seed gives every
// row the gradient of its own f_o only because rows do not interact; so f must treat rows
// independently: models in eval mode (batch norm with running statistics, dropout off), no
// softmax or normalisation across cells. Pass the model in AttributionOptions::model and it is
// checked to be in eval mode and its parameters are kept out of the backward passes (their
// requires_grad is switched off for the duration and restored, so no parameter gradient is
// touched); f must not depend on any other tensor that requires a gradient.
#include <Eigen/Dense>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "autograd/rng.h"
#include "autograd/tensor.h"
#include "nn/module.h"

namespace cg::nn {

// Same layout as omics::DenseMatrixD, so results pass straight to the omics writers.
using AttributionMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The model under study: x [rows, F_in] -> [rows, F_out] on x's device and dtype.
using AttributionFn = std::function<Tensor(const Tensor& x)>;

enum class IGRule {
  Midpoint,   // a_s = (s + 1/2) / S, weights 1/S: Riemann midpoint, error O(1/S^2), no endpoint
  Trapezoid,  // a_s = s / (S - 1), weights 1/(S-1) (half at both ends), error O(1/S^2); S >= 2
};

struct AttributionOptions {
  // When set: must be in eval mode (an Error otherwise), and its parameters do not receive
  // gradients during attribution.
  const Module* model = nullptr;
  // Most rows (path points x cells) stacked into one forward; at least one path step of all N
  // cells always goes in (N rows), so N > max_rows means one step per forward.
  int64_t max_rows = 4096;
  // Bound on the host accumulators (outputs x cells x features, float64): outputs are processed
  // in groups that fit, each group re-running the forwards. 1 << 24 values = 128 MiB.
  int64_t max_accumulator_values = int64_t(1) << 24;
  // Keep every cell's attribution (per_cell below): F_out matrices [N, F_in]; needs that memory.
  bool keep_per_cell = false;
  // Called after each output group with (outputs done, outputs total), for progress display.
  std::function<void(int64_t, int64_t)> progress;
};

struct AttributionResult {
  std::string method;  // "integrated_gradients" or "expected_gradients"
  int64_t steps = 0;   // IG: path steps; EG: samples per cell
  // Summaries over cells, [F_out, F_in]: mean |attribution| (relevance) and mean attribution
  // (direction: positive when raising the feature raises the output along the path).
  AttributionMatrix mean_abs;
  AttributionMatrix mean_signed;
  // keep_per_cell only: per_cell[o] is [N, F_in].
  std::vector<AttributionMatrix> per_cell;
  // Completeness, [N, F_out]: the sum over features of each cell's attribution, and
  // f(x) - f(reference) (EG: f(x) minus the mean of f over that cell's sampled background rows).
  AttributionMatrix attribution_sum;
  AttributionMatrix output_delta;

  int64_t outputs() const { return mean_abs.rows(); }
  int64_t features() const { return mean_abs.cols(); }
  // max over cells and outputs of |attribution_sum - output_delta|.
  double max_completeness_error() const;
};

// x [N, F_in]; baseline [F_in], [1, F_in] (one reference for all cells) or [N, F_in] (one per
// cell), same dtype and device as x. steps >= 1 (>= 2 for Trapezoid).
AttributionResult integrated_gradients(const AttributionFn& f, const Tensor& x, const Tensor& baseline,
                                       int64_t steps = 50, const AttributionOptions& options = {},
                                       IGRule rule = IGRule::Midpoint);

// x [N, F_in]; background [B, F_in] reference rows (B >= 1), same dtype and device as x;
// samples >= 1 draws of (background row, alpha) per cell, taken from gen.
AttributionResult expected_gradients(const AttributionFn& f, const Tensor& x, const Tensor& background, int64_t samples,
                                     Generator& gen, const AttributionOptions& options = {});

}  // namespace cg::nn
