#pragma once
// Optimizers over flat buffers, with PyTorch semantics (torch.optim.SGD / Adam / AdamW).
//
// Each optimizer keeps its state (momentum, first/second moments) in flat buffers, one element
// per parameter element, and applies a step as ONE fused kernel over a segment table: a list
// of runs where parameter values, gradients and state are each contiguous. Parameters that are
// adjacent in one flat storage (see flatten_parameters) merge into a single run, so a flattened
// model steps with one launch. On CUDA the table lives in a cached device buffer that is only
// re-uploaded when a parameter or gradient moves, so a steady-state step allocates nothing.
//
// Parameters are not owned: two optimizers may update the same tensors (UnitedNet steps its
// encoders from both the classification and the translation Adam).
//
// Differences from PyTorch worth knowing:
//  - zero_grad() fills gradients with zeros (PyTorch's set_to_none=False), because the
//    gradients are views into a flat buffer. A parameter that takes no part in a loss therefore
//    still gets a step with a zero gradient (weight decay and momentum still act on it), as in
//    PyTorch after zero_grad(set_to_none=False).
//  - A parameter whose gradient is undefined (never reached by backward, not flattened) is
//    skipped by step() as in PyTorch, but the step counter used for Adam's bias correction is
//    one per optimizer, not one per parameter.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"
#include "kernels/optim_types.h"

namespace cg {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Optimizer {
 public:
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // The parameters, each listed once (a tensor given twice is kept once).
  const std::vector<Tensor>& params() const { return params_; }
  double lr() const { return lr_; }
  void set_lr(double lr);
  int64_t step_count() const { return step_count_; }

  // One update of every parameter that has a gradient; increments step_count().
  void step();
  // Fills every parameter's gradient with zeros: one fill per segment (one for a flat model).
  void zero_grad();

  // Checkpoint state: "step" (a float64 CPU tensor [1]) and the flat state buffers by name
  // ("momentum_buffer" for SGD with momentum; "exp_avg", "exp_avg_sq" for Adam/AdamW). The
  // buffers are the live ones, not copies: save them before the next step.
  NamedTensors state() const;
  // Restores what state() returned (same names, element counts and dtype; any device). Throws,
  // naming the entry, on a missing, unexpected or mis-sized entry, and then changes nothing.
  void load_state(const NamedTensors& state);

  // Segments of the current table (1 for a fully flattened model); refreshes the table.
  int num_segments();

 protected:
  Optimizer(const char* name, std::vector<Tensor> params, double lr, std::vector<std::string> state_names);

  // The current table, in host memory (CPU) or device memory (CUDA).
  struct Segments {
    const void* table;  // const kernels::OptimSegment<T>*, T = float or double
    int count;
    int64_t total;  // elements over all segments
  };
  // Applies the update for step step_count() (already incremented) over `segments`.
  virtual void update(const Segments& segments) = 0;

  Device device() const { return device_; }
  DType dtype() const { return dtype_; }
  const Tensor& state_buffer(size_t i) const { return state_[i]; }
  const char* name() const { return name_; }

 private:
  void refresh_segments();

  const char* name_;
  std::vector<Tensor> params_;
  std::vector<int64_t> state_offsets_;  // element offset of params_[i] in the state buffers
  Device device_;
  DType dtype_;
  double lr_;
  int64_t step_count_ = 0;
  std::vector<std::string> state_names_;
  std::vector<Tensor> state_;

  // (param data, grad data or null) per parameter when the table was built: the table is
  // rebuilt only when one of these changes.
  std::vector<std::pair<const void*, const void*>> signature_;
  bool table_built_ = false;
  std::vector<kernels::OptimSegment<float>> host_f32_;
  std::vector<kernels::OptimSegment<double>> host_f64_;
  int64_t total_ = 0;
  StoragePtr device_table_;  // CUDA: the float table, re-uploaded on rebuild, grown only when needed
};

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0;
  double weight_decay = 0;  // L2 penalty added to the gradient
  bool nesterov = false;    // needs momentum > 0
};

class SGD : public Optimizer {
 public:
  explicit SGD(std::vector<Tensor> params, SgdOptions options = {});
  const SgdOptions& options() const { return options_; }

 private:
  void update(const Segments& segments) override;
  SgdOptions options_;
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;  // Adam: L2 added to the gradient. AdamW: decoupled, p -= lr * wd * p
};

class Adam : public Optimizer {
 public:
  explicit Adam(std::vector<Tensor> params, AdamOptions options = {});
  const AdamOptions& options() const { return options_; }

 protected:
  Adam(const char* name, std::vector<Tensor> params, AdamOptions options, bool decoupled);

 private:
  void update(const Segments& segments) override;
  AdamOptions options_;
  bool decoupled_;
};

class AdamW : public Adam {
 public:
  // PyTorch's AdamW default weight decay is 0.01 (Adam's is 0).
  static AdamOptions defaults() {
    AdamOptions o;
    o.weight_decay = 0.01;
    return o;
  }
  explicit AdamW(std::vector<Tensor> params, AdamOptions options = defaults());
};

// Global L2 norm of every defined gradient (each tensor counted once), computed in double.
// When the norm exceeds max_norm, scales the gradients in place by max_norm / (norm + 1e-6)
// (torch.nn.utils.clip_grad_norm_). Returns the norm before clipping; a non-finite norm is
// returned as is, with the gradients left untouched, for the caller to act on.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

}  // namespace cg
