#pragma once
// Multi-task loss weighting for ablations: fixed weights, uncertainty (Kendall et al. 2018), DWA (Liu et al. 2019),
// GradNorm (Chen et al. 2018) and PCGrad (Yu et al. 2020); each is described at its class.
//
// Every strategy takes the named task losses of one step and produces the total that the
// model's gradient comes from:
//   - combine(losses) returns a differentiable total (fixed, uncertainty and DWA weighting are
//     fully described by it);
//   - backward(losses, shared_params) runs the backward pass itself. The default is
//     combine(losses).backward(); GradNorm and PCGrad override it because they need one
//     gradient per task (several backward passes over one graph with retain_graph).
// Tasks are fixed at construction; every call must name exactly those tasks (any order), each
// with a one-element loss tensor. weights() gives the current effective weight on each task's
// loss so that a run can log it every step.
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "autograd/rng.h"
#include "autograd/tensor.h"
#include "nn/module.h"

namespace cg::nn {

using NamedLosses = std::vector<std::pair<std::string, Tensor>>;

class LossWeighting {
 public:
  explicit LossWeighting(std::vector<std::string> tasks);
  virtual ~LossWeighting() = default;
  LossWeighting(const LossWeighting&) = delete;
  LossWeighting& operator=(const LossWeighting&) = delete;

  virtual const char* name() const = 0;
  const std::vector<std::string>& tasks() const { return tasks_; }

  // The weighted total, differentiable with respect to the losses and any learned weights.
  virtual Tensor combine(const NamedLosses& losses) = 0;
  // Puts the gradient of the weighted objective into the .grad of every leaf the losses depend
  // on and returns the total (detached) for logging. shared_params are the parameters that the
  // gradient-combining strategies act on (GradNorm: the last shared layer; PCGrad: every
  // shared parameter); the default ignores them.
  virtual Tensor backward(const NamedLosses& losses, const std::vector<Tensor>& shared_params);

  // Effective weight on each task's loss, by task name.
  virtual std::map<std::string, double> weights() const = 0;
  // Learned tensors that an external optimizer must step (uncertainty log-variances).
  virtual std::vector<Tensor> parameters() { return {}; }
  // Called once per epoch with that epoch's mean loss per task (DWA); extra keys are ignored.
  virtual void end_epoch(const std::map<std::string, double>& mean_losses) {}

  // Everything needed to resume bit-identically (checkpoints): float64 CPU tensors by name.
  virtual NamedTensors state() const { return {}; }
  // Restores what state() returned; throws naming the entry on a missing, unexpected or
  // mis-sized entry.
  virtual void load_state(const NamedTensors& state);
  // The strategy's own random generator, if it has one (PCGrad), so checkpoints can save it.
  virtual Generator* generator() { return nullptr; }

 protected:
  // The losses in task order; throws listing missing/unexpected/duplicate names or a loss that
  // is not a defined one-element floating-point tensor.
  std::vector<Tensor> ordered(const NamedLosses& losses) const;
  // The task means from end_epoch's map, in task order; throws naming a missing task.
  std::vector<double> ordered(const std::map<std::string, double>& values, const char* what) const;
  // sum_t w_t * L_t with constant weights, as a [1] tensor.
  static Tensor weighted_sum(const std::vector<Tensor>& losses, const std::vector<double>& w);
  // Helpers for state()/load_state() of [T] float64 vectors.
  static Tensor vector_tensor(const std::vector<double>& v);
  std::map<std::string, std::vector<double>> read_state(const NamedTensors& state,
                                                        const std::map<std::string, int64_t>& sizes) const;

  std::vector<std::string> tasks_;
};

// ---- fixed weights -------------------------------------------------------------------------------
class FixedWeights : public LossWeighting {
 public:
  // A task missing from `weights` gets 1; a name that is not a task, or a negative or
  // non-finite weight, is an error naming the term.
  FixedWeights(std::vector<std::string> tasks, const std::map<std::string, double>& weights);
  const char* name() const override { return "fixed"; }
  Tensor combine(const NamedLosses& losses) override;
  std::map<std::string, double> weights() const override;

 private:
  std::vector<double> w_;
};

// ---- uncertainty weighting (Kendall, Gal, Cipolla 2018) --------------------------------------------
// total = sum_t c_t (exp(-s_t) L_t + s_t), s_t = log sigma_t^2 learned (one [1] parameter per
// task, stepped by the caller's optimizer), c_t = 1/2 for the tasks listed as regression
// terms (the Gaussian likelihood's 1/2 on both parts), 1 otherwise. The optimum of each term is
// s_t = log L_t whatever c_t is.
class UncertaintyWeighting : public LossWeighting {
 public:
  UncertaintyWeighting(std::vector<std::string> tasks, const std::set<std::string>& regression_tasks = {},
                       double initial_log_variance = 0.0, Device device = Device::CPU, DType dtype = DType::F32);
  const char* name() const override { return "uncertainty"; }
  Tensor combine(const NamedLosses& losses) override;
  std::map<std::string, double> weights() const override;  // c_t exp(-s_t)
  std::vector<Tensor> parameters() override { return log_variances_; }
  std::map<std::string, double> log_variances() const;
  NamedTensors state() const override;
  void load_state(const NamedTensors& state) override;

 private:
  std::vector<Tensor> log_variances_;
  std::vector<double> half_;  // c_t
};

// ---- dynamic weight average (Liu, Johns, Davison 2019) -----------------------------------------------
// lambda_t(k) = T exp(r_t / Temp) / sum_j exp(r_j / Temp), r_t = L_t(k-1) / L_t(k-2), from the
// per-epoch mean losses given to end_epoch; all weights are 1 until two epochs are recorded.
class DWA : public LossWeighting {
 public:
  explicit DWA(std::vector<std::string> tasks, double temperature = 2.0);
  const char* name() const override { return "dwa"; }
  Tensor combine(const NamedLosses& losses) override;
  std::map<std::string, double> weights() const override;
  void end_epoch(const std::map<std::string, double>& mean_losses) override;
  NamedTensors state() const override;
  void load_state(const NamedTensors& state) override;

 private:
  void update_weights();
  double temperature_;
  std::vector<double> previous_, last_;  // L(k-2), L(k-1); empty until recorded
  std::vector<double> w_;
};

// ---- GradNorm (Chen, Badrinarayanan, Lee, Rabinovich 2018) -------------------------------------------
// Learned weights w_t (start at 1, always sum to T). Each backward():
//   G_t = ||grad_W (w_t L_t)|| on the shared parameters W (the last shared layer),
//   r_t = (L_t / L_t(0)) / mean_j (L_j / L_j(0)), target_t = mean(G) * r_t^alpha (a constant),
//   w_t -= lr * sign(G_t - target_t) * ||grad_W L_t||   (d/dw_t of sum_t |G_t - target_t|),
//   w clamped to >= 1e-6 * T, then rescaled to sum to T.
// The model's gradient is sum_t w_t grad L_t with the weights from before the update, as in the
// paper. L_t(0) are the losses of the first backward() call. The weights are stepped here, not
// by an external optimizer, so parameters() is empty; weights() and state() expose them.
class GradNorm : public LossWeighting {
 public:
  explicit GradNorm(std::vector<std::string> tasks, double alpha = 1.5, double lr = 0.025);
  const char* name() const override { return "gradnorm"; }
  Tensor combine(const NamedLosses& losses) override;  // sum_t w_t L_t, weights constant
  Tensor backward(const NamedLosses& losses, const std::vector<Tensor>& shared_params) override;
  std::map<std::string, double> weights() const override;
  // ||grad_W L_t|| of the last backward(), by task (for logging).
  std::map<std::string, double> last_gradient_norms() const;
  NamedTensors state() const override;
  void load_state(const NamedTensors& state) override;

 private:
  double alpha_, lr_;
  std::vector<double> w_, initial_, last_norms_;
};

// ---- PCGrad (Yu, Kumar, Gupta, Levine, Hausman, Finn 2020) ---------------------------------------------
// backward(): one gradient g_t per task over the given parameters; for each task i, visiting the
// other tasks in a random order (the seeded generator, shuffled anew for every i as in the
// reference implementation), g_i -= (g_i . g_j) / ||g_j||^2 g_j whenever g_i . g_j < 0, with g_j
// the original (unprojected) gradient; the projected gradients are summed and added to what the
// parameters' .grad held before the call. Parameters not listed (task-specific heads) receive
// the plain sum of the task gradients. Losses are summed with weight 1.
class PCGrad : public LossWeighting {
 public:
  explicit PCGrad(std::vector<std::string> tasks, uint64_t seed = 0);
  const char* name() const override { return "pcgrad"; }
  Tensor combine(const NamedLosses& losses) override;  // plain sum
  Tensor backward(const NamedLosses& losses, const std::vector<Tensor>& shared_params) override;
  std::map<std::string, double> weights() const override;  // 1 for every task
  Generator* generator() override { return &gen_; }
  // Pairs (i, j) whose gradients conflicted in the last backward(), for logging.
  int last_conflicts() const { return last_conflicts_; }

 private:
  Generator gen_;
  int last_conflicts_ = 0;
};

// ---- factory ------------------------------------------------------------------------------------------
struct LossWeightingOptions {
  std::map<std::string, double> fixed_weights;  // "fixed": lambda_t (missing tasks: 1)
  std::set<std::string> regression_tasks;       // "uncertainty": tasks with the 1/2 factors
  double initial_log_variance = 0.0;            // "uncertainty": s_t at the start
  Device device = Device::CPU;                  // "uncertainty": where s_t live (the losses' device)
  DType dtype = DType::F32;                     // "uncertainty": dtype of s_t (the losses' dtype)
  double dwa_temperature = 2.0;
  double gradnorm_alpha = 1.5;
  double gradnorm_lr = 0.025;
  uint64_t seed = 0;  // "pcgrad": task-order shuffling
};

// ---- registry -----------------------------------------------------------------------------------------
// What a strategy needs from the trainer besides the losses.
enum class WeightingNeeds {
  Nothing,
  LastSharedLayer,   // backward() acts on the last shared layer's parameters (GradNorm)
  SharedParameters,  // backward() acts on every shared parameter (PCGrad)
};

struct LossWeightingEntry {
  std::string name;
  std::string description;  // one line, for --help and error messages
  WeightingNeeds needs = WeightingNeeds::Nothing;
  std::unique_ptr<LossWeighting> (*make)(const std::vector<std::string>& tasks, const LossWeightingOptions& options);
};

// Every strategy, in the order --help lists them (nn/loss_weighting_registry.cpp).
const std::vector<LossWeightingEntry>& loss_weightings();
// The entry named `name`; anything else is an error that lists the names.
const LossWeightingEntry& loss_weighting(const std::string& name);

std::unique_ptr<LossWeighting> make_loss_weighting(const std::string& name, const std::vector<std::string>& tasks,
                                                   const LossWeightingOptions& options = {});

// Host copy of the parameters' gradients, concatenated, in float64 (zeros where undefined):
// what the gradient-combining strategies (GradNorm, PCGrad) work on.
std::vector<double> flat_gradients(const std::vector<Tensor>& params);

}  // namespace cg::nn
