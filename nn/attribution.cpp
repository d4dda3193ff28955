#include "nn/attribution.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "autograd/engine.h"
#include "autograd/error.h"
#include "autograd/ops.h"

namespace cg::nn {

double AttributionResult::max_completeness_error() const {
  if (attribution_sum.size() == 0) return 0.0;
  return (attribution_sum - output_delta).cwiseAbs().maxCoeff();
}

namespace {

// Which points of which paths to evaluate. Path step s of cell n is
//   ref_row + alpha * (x_n - ref_row),   ref_row = refs[ref_index[s * N + n]],
// and its gradient times (x_n - ref_row) enters cell n's attribution with weight[s]
// (the weights sum to one, so the attribution is a weighted mean over steps).
struct PathPlan {
  int64_t steps = 0;
  std::vector<double> weight;      // [steps]
  std::vector<int32_t> ref_index;  // [steps * N], step-major
  std::vector<double> alpha;       // [steps * N]
};

// Switches off requires_grad on a model's parameters for its lifetime (restoring each one's own
// setting afterwards, frozen ones included), so attribution backward passes reach only the input.
class ParameterGradOff {
 public:
  explicit ParameterGradOff(const Module* model) {
    if (!model) return;
    for (auto& [name, p] : model->named_parameters()) {
      saved_.emplace_back(p, p.requires_grad());
      p.impl()->requires_grad = false;
    }
  }
  ~ParameterGradOff() {
    for (auto& [p, on] : saved_) p.impl()->requires_grad = on;
  }
  ParameterGradOff(const ParameterGradOff&) = delete;
  ParameterGradOff& operator=(const ParameterGradOff&) = delete;

 private:
  std::vector<std::pair<Tensor, bool>> saved_;
};

void check_matrix_input(const char* fn, const char* what, const Tensor& t, const Tensor& x) {
  CG_CHECK(t.defined(), fn << ": " << what << " is undefined");
  CG_CHECK(t.rank() == 2, fn << ": expected " << what << " as a 2-D [rows, features] tensor, found " << t.describe());
  CG_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::F64,
           fn << ": expected a float32 or float64 " << what << ", found " << t.describe());
  if (&t != &x) {
    CG_CHECK(t.dtype() == x.dtype() && t.device() == x.device(),
             fn << ": " << what << " " << t.describe() << " must have the dtype and device of x " << x.describe());
    CG_CHECK(t.dim(1) == x.dim(1), fn << ": " << what << " has " << t.dim(1) << " features but x has " << x.dim(1));
  }
}

// Runs f under no_grad and checks that it maps [rows, F_in] to [rows, F_out].
AttributionMatrix eval_no_grad(const char* fn, const AttributionFn& f, const Tensor& in, int64_t expect_cols) {
  NoGradGuard no_grad;
  Tensor out = f(in);
  CG_CHECK(out.defined() && out.rank() >= 1 && out.rows() == in.dim(0),
           fn << ": f mapped " << in.describe() << " to " << (out.defined() ? out.describe() : std::string("nothing"))
              << "; expected one output row per input row");
  CG_CHECK(expect_cols < 0 || out.cols() == expect_cols,
           fn << ": f returned " << out.cols() << " outputs per row here but " << expect_cols << " elsewhere");
  const std::vector<double> v = out.to_vector<double>();
  return Eigen::Map<const AttributionMatrix>(v.data(), out.rows(), out.cols());
}

Tensor index_tensor(const std::vector<int32_t>& idx, Device device) { return Tensor::from_indices(idx, device); }

Tensor float_tensor(const std::vector<double>& v, const Shape& shape, DType dtype, Device device) {
  Tensor t = Tensor::from_vector(v, shape);
  if (dtype != DType::F64) t = t.to(dtype);
  if (device != Device::CPU) t = t.to(device);
  return t;
}

// Steps [s0, s1) of the path for every cell: the interpolation points (rows step-major), the
// input-minus-reference differences and the steps' weights, built on x's device without
// recording.
struct PathChunk {
  Tensor points, diff, step_weight;
};
PathChunk path_chunk(const Tensor& x, const Tensor& refs, const PathPlan& plan, int64_t s0, int64_t s1) {
  NoGradGuard no_grad;
  const int64_t N = x.dim(0), cs = s1 - s0, rows = cs * N;
  std::vector<int32_t> cell(rows), ref(rows);
  std::vector<double> alpha(rows), w(cs);
  for (int64_t s = s0; s < s1; ++s) {
    w[s - s0] = plan.weight[s];
    for (int64_t n = 0; n < N; ++n) {
      const int64_t row = (s - s0) * N + n;
      cell[row] = static_cast<int32_t>(n);
      ref[row] = plan.ref_index[s * N + n];
      alpha[row] = plan.alpha[s * N + n];
    }
  }
  PathChunk c;
  const Tensor xr = gather_rows(x, index_tensor(cell, x.device()));
  const Tensor rr = gather_rows(refs, index_tensor(ref, x.device()));
  c.diff = sub(xr, rr);
  c.points = add(rr, mul(c.diff, float_tensor(alpha, {rows, 1}, x.dtype(), x.device())));
  c.step_weight = float_tensor(w, {cs, 1}, x.dtype(), x.device());
  return c;
}

AttributionResult attribute(const char* fn, const AttributionFn& f, const Tensor& x_in, const Tensor& refs_in,
                            const PathPlan& plan, const AttributionOptions& opt) {
  CG_CHECK(static_cast<bool>(f), fn << ": f is empty");
  CG_CHECK(opt.max_rows >= 1, fn << ": max_rows must be at least 1, found " << opt.max_rows);
  CG_CHECK(opt.max_accumulator_values >= 1,
           fn << ": max_accumulator_values must be at least 1, found " << opt.max_accumulator_values);
  if (opt.model)
    CG_CHECK(!opt.model->is_training(),
             fn << ": the model is in training mode; call eval() first (batch statistics and dropout would mix "
                   "cells and randomise the gradients)");
  ParameterGradOff params_off(opt.model);

  const Tensor x = x_in.detach(), refs = refs_in.detach();
  const int64_t N = x.dim(0), F_in = x.dim(1), S = plan.steps;
  const Device device = x.device();

  // Completeness terms; also fixes F_out.
  const AttributionMatrix fx = eval_no_grad(fn, f, x, -1);
  const int64_t F_out = fx.cols();
  CG_CHECK(F_out >= 1, fn << ": f has no outputs");
  const AttributionMatrix fref = eval_no_grad(fn, f, refs, F_out);

  AttributionResult r;
  r.steps = S;
  r.mean_abs = AttributionMatrix::Zero(F_out, F_in);
  r.mean_signed = AttributionMatrix::Zero(F_out, F_in);
  r.attribution_sum = AttributionMatrix::Zero(N, F_out);
  r.output_delta = fx;
  for (int64_t s = 0; s < S; ++s)
    for (int64_t n = 0; n < N; ++n) r.output_delta.row(n) -= plan.weight[s] * fref.row(plan.ref_index[s * N + n]);
  if (opt.keep_per_cell) r.per_cell.resize(F_out);

  const int64_t steps_per_forward = std::min<int64_t>(S, std::max<int64_t>(1, opt.max_rows / N));
  const int64_t outputs_per_group =
      std::min<int64_t>(F_out, std::max<int64_t>(1, opt.max_accumulator_values / (N * F_in)));

  for (int64_t o0 = 0; o0 < F_out; o0 += outputs_per_group) {
    const int64_t o1 = std::min(F_out, o0 + outputs_per_group);
    std::vector<AttributionMatrix> acc(o1 - o0, AttributionMatrix::Zero(N, F_in));

    for (int64_t s0 = 0; s0 < S; s0 += steps_per_forward) {
      const int64_t s1 = std::min(S, s0 + steps_per_forward), cs = s1 - s0, rows = cs * N;

      PathChunk chunk = path_chunk(x, refs, plan, s0, s1);
      Tensor& points = chunk.points;
      const Tensor& diff = chunk.diff;
      const Tensor& step_weight = chunk.step_weight;
      points.set_requires_grad(true);
      const Tensor out = f(points);
      CG_CHECK(out.defined() && out.rows() == rows && out.cols() == F_out,
               fn << ": f mapped " << points.describe() << " to "
                  << (out.defined() ? out.describe() : std::string("nothing")) << "; expected [" << rows << ", "
                  << F_out << "]");
      CG_CHECK(out.requires_grad(), fn << ": f's output " << out.describe()
                                       << " does not depend on its input through differentiable ops (was it "
                                          "computed under no_grad, or from a detached copy?)");

      for (int64_t o = o0; o < o1; ++o) {
        // d(sum over rows of f[:, o]) / d points: row r's gradient of its own f_o, rows being independent.
        std::vector<double> seed(static_cast<size_t>(rows * F_out), 0.0);
        for (int64_t row = 0; row < rows; ++row) seed[row * F_out + o] = 1.0;
        points.set_grad(Tensor());
        out.backward(float_tensor(seed, out.shape(), out.dtype(), device), /*retain_graph=*/o + 1 < o1);
        const Tensor g = points.grad();
        if (!g.defined()) continue;  // f_o does not depend on the input: zero attribution
        NoGradGuard no_grad;
        // (x - x') * gradient, then the weighted sum over this chunk's steps, per cell and feature.
        const Tensor per_step = reshape(mul(g, diff), {cs, N * F_in});
        // step_weight^T per_step: the weighted sum over steps as one GEMM pass, without a
        // second [cs, N * F_in] temporary (wide inputs: 3,200 x 14,219 floats per output).
        const std::vector<double> summed = matmul(step_weight, per_step, /*trans_a=*/true).to_vector<double>();
        acc[o - o0] += Eigen::Map<const AttributionMatrix>(summed.data(), N, F_in);
      }
      points.set_grad(Tensor());
    }

    for (int64_t o = o0; o < o1; ++o) {
      AttributionMatrix& a = acc[o - o0];
      r.mean_abs.row(o) = a.cwiseAbs().colwise().mean();
      r.mean_signed.row(o) = a.colwise().mean();
      r.attribution_sum.col(o) = a.rowwise().sum();
      if (opt.keep_per_cell) r.per_cell[o] = std::move(a);
    }
    if (opt.progress) opt.progress(o1, F_out);
  }
  return r;
}

}  // namespace

AttributionResult integrated_gradients(const AttributionFn& f, const Tensor& x, const Tensor& baseline, int64_t steps,
                                       const AttributionOptions& options, IGRule rule) {
  const char* fn = "integrated_gradients";
  check_matrix_input(fn, "x", x, x);
  CG_CHECK(x.dim(0) >= 1 && x.dim(1) >= 1, fn << ": x " << x.describe() << " is empty");
  CG_CHECK(baseline.defined(), fn << ": baseline is undefined");
  Tensor refs = baseline;
  if (refs.rank() == 1) refs = reshape(baseline.detach(), {1, baseline.dim(0)});
  check_matrix_input(fn, "baseline", refs, x);
  const int64_t N = x.dim(0);
  CG_CHECK(refs.dim(0) == 1 || refs.dim(0) == N,
           fn << ": baseline " << baseline.describe() << " must have 1 row or one row per cell (" << N << ")");
  CG_CHECK(steps >= 1, fn << ": steps must be at least 1, found " << steps);
  CG_CHECK(rule != IGRule::Trapezoid || steps >= 2, fn << ": the trapezoid rule needs at least 2 steps");

  PathPlan plan;
  plan.steps = steps;
  plan.weight.resize(steps);
  plan.ref_index.resize(steps * N);
  plan.alpha.resize(steps * N);
  for (int64_t s = 0; s < steps; ++s) {
    double a, w;
    if (rule == IGRule::Midpoint) {
      a = (s + 0.5) / steps;
      w = 1.0 / steps;
    } else {
      a = static_cast<double>(s) / (steps - 1);
      w = (s == 0 || s == steps - 1 ? 0.5 : 1.0) / (steps - 1);
    }
    plan.weight[s] = w;
    for (int64_t n = 0; n < N; ++n) {
      plan.ref_index[s * N + n] = refs.dim(0) == 1 ? 0 : static_cast<int32_t>(n);
      plan.alpha[s * N + n] = a;
    }
  }
  AttributionResult r = attribute(fn, f, x, refs, plan, options);
  r.method = "integrated_gradients";
  return r;
}

AttributionResult expected_gradients(const AttributionFn& f, const Tensor& x, const Tensor& background, int64_t samples,
                                     Generator& gen, const AttributionOptions& options) {
  const char* fn = "expected_gradients";
  check_matrix_input(fn, "x", x, x);
  CG_CHECK(x.dim(0) >= 1 && x.dim(1) >= 1, fn << ": x " << x.describe() << " is empty");
  check_matrix_input(fn, "background", background, x);
  const int64_t N = x.dim(0), B = background.dim(0);
  CG_CHECK(B >= 1, fn << ": the background set is empty");
  CG_CHECK(B <= INT32_MAX, fn << ": the background set has more rows than an int32 index holds");
  CG_CHECK(samples >= 1, fn << ": samples must be at least 1, found " << samples);

  PathPlan plan;
  plan.steps = samples;
  plan.weight.assign(samples, 1.0 / samples);
  plan.alpha = gen.uniform({samples * N}, Device::CPU, DType::F64).to_vector<double>();
  plan.ref_index.resize(samples * N);
  for (auto& i : plan.ref_index) i = static_cast<int32_t>(gen.next_below(static_cast<uint32_t>(B)));
  AttributionResult r = attribute(fn, f, x, background, plan, options);
  r.method = "expected_gradients";
  return r;
}

}  // namespace cg::nn
