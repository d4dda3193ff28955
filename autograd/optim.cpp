#include "autograd/optim.h"

#include <cmath>
#include <unordered_set>

#include "autograd/dispatch.h"
#include "autograd/engine.h"
#include "autograd/error.h"
#include "autograd/profiler.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/optim.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/optim.h"
#include "kernels/cuda/runtime.h"
#endif

namespace cg {

using kernels::OptimSegment;

namespace {

// Appends a run to a table, merging it into the previous segment when parameter, gradient and
// state all continue where that one ends.
template <class T>
void append_segment(std::vector<OptimSegment<T>>& table, T* param, const T* grad, int64_t state, int64_t n) {
  if (n == 0) return;
  if (!table.empty()) {
    OptimSegment<T>& last = table.back();
    if (last.param + last.length == param && last.grad + last.length == grad && last.state + last.length == state) {
      last.length += n;
      return;
    }
  }
  const int64_t begin = table.empty() ? 0 : table.back().begin + table.back().length;
  table.push_back(OptimSegment<T>{param, grad, state, n, begin});
}

}  // namespace

// ---- Optimizer ---------------------------------------------------------------------------------

Optimizer::Optimizer(const char* name, std::vector<Tensor> params, double lr, std::vector<std::string> state_names)
    : name_(name), lr_(lr), state_names_(std::move(state_names)) {
  CG_CHECK(!params.empty(), name << ": no parameters given");
  CG_CHECK(std::isfinite(lr) && lr >= 0, name << ": learning rate must be finite and >= 0, found " << lr);
  std::unordered_set<const TensorImpl*> seen;
  int64_t total = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    CG_CHECK(p.defined(), name << ": parameter " << i << " is an undefined tensor");
    CG_CHECK(p.dtype() != DType::I32,
             name << ": parameter " << i << " is " << p.describe() << "; parameters must be floating-point");
    CG_CHECK(p.is_leaf(), name << ": parameter " << i << " (" << p.describe() << ") comes from op '" << p.grad_fn()->op
                               << "'; parameters must be leaf tensors");
    CG_CHECK(p.device() == params[0].device() && p.dtype() == params[0].dtype(),
             name << ": all parameters must share one device and dtype; parameter 0 is " << params[0].describe()
                  << " but parameter " << i << " is " << p.describe());
    if (!seen.insert(p.impl()).second) continue;  // a shared weight listed twice is updated once
    params_.push_back(p);
    state_offsets_.push_back(total);
    total += p.numel();
  }
  device_ = params_[0].device();
  dtype_ = params_[0].dtype();
  for (size_t i = 0; i < state_names_.size(); ++i) state_.push_back(Tensor::zeros({total}, dtype_, device_));
  // Build (and on CUDA upload) the table now when the gradients already exist (flat params),
  // so that the first step does not allocate either.
  refresh_segments();
}

Optimizer::~Optimizer() = default;

void Optimizer::set_lr(double lr) {
  CG_CHECK(std::isfinite(lr) && lr >= 0, name_ << ": learning rate must be finite and >= 0, found " << lr);
  lr_ = lr;
}

void Optimizer::refresh_segments() {
  // O(#params) pointer comparison per step; the table itself is rebuilt only on a change
  // (a parameter re-flattened, or a gradient that appeared, vanished or was replaced).
  bool same = table_built_ && signature_.size() == params_.size();
  std::vector<std::pair<const void*, const void*>> signature(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    CG_CHECK(p.device() == device_ && p.dtype() == dtype_,
             name_ << ": parameter " << i << " is now " << p.describe() << ", but the optimizer state is "
                   << dtype_name(dtype_) << " on " << device_name(device_));
    const Tensor g = p.grad();
    if (g.defined())
      CG_CHECK(g.shape() == p.shape() && g.dtype() == dtype_ && g.device() == device_,
               name_ << ": parameter " << i << " " << p.describe() << " has the gradient " << g.describe());
    signature[i] = {p.raw_data(), g.defined() ? g.raw_data() : nullptr};
    if (same && signature[i] != signature_[i]) same = false;
  }
  if (same) return;

  signature_ = std::move(signature);
  host_f32_.clear();
  host_f64_.clear();
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    const Tensor g = p.grad();
    if (!g.defined()) continue;  // skipped this step, as PyTorch skips p.grad is None
    if (dtype_ == DType::F32) append_segment(host_f32_, p.data<float>(), g.data<float>(), state_offsets_[i], p.numel());
    else append_segment(host_f64_, p.data<double>(), g.data<double>(), state_offsets_[i], p.numel());
  }
  total_ = 0;
  for (const auto& s : host_f32_) total_ += s.length;
  for (const auto& s : host_f64_) total_ += s.length;
  table_built_ = true;

  if (device_ == Device::CUDA && !host_f32_.empty()) {
    const size_t bytes = host_f32_.size() * sizeof(OptimSegment<float>);
    if (!device_table_ || device_table_->bytes() < bytes)
      device_table_ = std::make_shared<Storage>(bytes, Device::CUDA);
    CG_IF_CUDA(kernels::cuda::copy_host_to_device(device_table_->data(), host_f32_.data(), bytes));
  }
}

int Optimizer::num_segments() {
  refresh_segments();
  return static_cast<int>(dtype_ == DType::F32 ? host_f32_.size() : host_f64_.size());
}

void Optimizer::step() {
  const profiler::Scope timed("optimizer step", profiler::Pass::Optimizer);
  refresh_segments();
  ++step_count_;
  Segments s;
  s.count = static_cast<int>(dtype_ == DType::F32 ? host_f32_.size() : host_f64_.size());
  s.total = total_;
  if (device_ == Device::CUDA) s.table = s.count > 0 ? device_table_->data() : nullptr;
  else s.table = dtype_ == DType::F32 ? static_cast<const void*>(host_f32_.data()) : host_f64_.data();
  if (s.count > 0) update(s);
}

void Optimizer::zero_grad() {
  refresh_segments();
  // Segments already merge adjacent gradients; fill through the host copy of the table.
  if (device_ == Device::CPU) {
    for (const auto& s : host_f32_) kernels::cpu::fill(const_cast<float*>(s.grad), 0.0f, s.length);
    for (const auto& s : host_f64_) kernels::cpu::fill(const_cast<double*>(s.grad), 0.0, s.length);
  } else {
    CG_IF_CUDA(for (const auto& s : host_f32_) kernels::cuda::fill(const_cast<float*>(s.grad), 0.0f, s.length));
  }
}

NamedTensors Optimizer::state() const {
  NamedTensors out;
  out.emplace_back("step", Tensor::from_vector(std::vector<double>{static_cast<double>(step_count_)}, {1}));
  for (size_t i = 0; i < state_names_.size(); ++i) out.emplace_back(state_names_[i], state_[i]);
  return out;
}

void Optimizer::load_state(const NamedTensors& state) {
  // Validate everything first, so a bad checkpoint leaves the optimizer as it was.
  const Tensor* step = nullptr;
  std::vector<const Tensor*> buffers(state_names_.size(), nullptr);
  for (const auto& [key, t] : state) {
    const Tensor** slot = nullptr;
    if (key == "step") slot = &step;
    for (size_t i = 0; i < state_names_.size(); ++i)
      if (key == state_names_[i]) slot = &buffers[i];
    CG_CHECK(slot != nullptr, name_ << " load_state: unexpected entry '" << key << "'");
    CG_CHECK(*slot == nullptr, name_ << " load_state: entry '" << key << "' appears twice");
    CG_CHECK(t.defined(), name_ << " load_state: entry '" << key << "' is an undefined tensor");
    *slot = &t;
  }
  CG_CHECK(step != nullptr, name_ << " load_state: missing entry 'step'");
  CG_CHECK(step->numel() == 1 && step->dtype() != DType::I32,
           name_ << " load_state: 'step' must be one floating-point value, found " << step->describe());
  const double step_value = step->item();
  CG_CHECK(step_value >= 0 && std::floor(step_value) == step_value,
           name_ << " load_state: 'step' must be a non-negative integer, found " << step_value);
  for (size_t i = 0; i < state_names_.size(); ++i) {
    CG_CHECK(buffers[i] != nullptr, name_ << " load_state: missing entry '" << state_names_[i] << "'");
    CG_CHECK(buffers[i]->numel() == state_[i].numel() && buffers[i]->dtype() == state_[i].dtype(),
             name_ << " load_state: entry '" << state_names_[i] << "' is " << buffers[i]->describe() << ", expected "
                   << state_[i].numel() << " " << dtype_name(state_[i].dtype()) << " values");
  }
  step_count_ = static_cast<int64_t>(step_value);
  for (size_t i = 0; i < state_names_.size(); ++i) state_[i].copy_(*buffers[i]);
}

// ---- SGD -----------------------------------------------------------------------------------------

namespace {
std::vector<std::string> sgd_state_names(const SgdOptions& o) {
  if (o.momentum != 0) return {"momentum_buffer"};
  return {};
}
const SgdOptions& checked(const SgdOptions& o) {
  CG_CHECK(o.momentum >= 0 && std::isfinite(o.momentum), "SGD: momentum must be >= 0, found " << o.momentum);
  CG_CHECK(o.weight_decay >= 0 && std::isfinite(o.weight_decay),
           "SGD: weight_decay must be >= 0, found " << o.weight_decay);
  CG_CHECK(!o.nesterov || o.momentum > 0, "SGD: nesterov momentum needs momentum > 0");
  return o;
}
const AdamOptions& checked(const char* name, const AdamOptions& o) {
  CG_CHECK(o.beta1 >= 0 && o.beta1 < 1, name << ": beta1 must be in [0, 1), found " << o.beta1);
  CG_CHECK(o.beta2 >= 0 && o.beta2 < 1, name << ": beta2 must be in [0, 1), found " << o.beta2);
  CG_CHECK(o.eps >= 0 && std::isfinite(o.eps), name << ": eps must be >= 0, found " << o.eps);
  CG_CHECK(o.weight_decay >= 0 && std::isfinite(o.weight_decay),
           name << ": weight_decay must be >= 0, found " << o.weight_decay);
  return o;
}
}  // namespace

SGD::SGD(std::vector<Tensor> params, SgdOptions options)
    : Optimizer("SGD", std::move(params), checked(options).lr, sgd_state_names(options)), options_(options) {}

void SGD::update(const Segments& s) {
  kernels::SgdParams p;
  p.lr = lr();
  p.momentum = options_.momentum;
  p.weight_decay = options_.weight_decay;
  p.nesterov = options_.nesterov;
  const bool momentum = options_.momentum != 0;
  if (device() == Device::CPU) {
    CG_DISPATCH_FLOAT(dtype(), "SGD step", T,
                      kernels::cpu::sgd_step<T>(static_cast<const OptimSegment<T>*>(s.table), s.count,
                                                momentum ? state_buffer(0).data<T>() : nullptr, p));
  } else {
    CG_IF_CUDA(kernels::cuda::sgd_step(static_cast<const OptimSegment<float>*>(s.table), s.count, s.total,
                                       momentum ? state_buffer(0).data<float>() : nullptr, p));
  }
}

// ---- Adam / AdamW --------------------------------------------------------------------------------

Adam::Adam(std::vector<Tensor> params, AdamOptions options) : Adam("Adam", std::move(params), options, false) {}

Adam::Adam(const char* name, std::vector<Tensor> params, AdamOptions options, bool decoupled)
    : Optimizer(name, std::move(params), checked(name, options).lr, {"exp_avg", "exp_avg_sq"}),
      options_(options),
      decoupled_(decoupled) {}

AdamW::AdamW(std::vector<Tensor> params, AdamOptions options) : Adam("AdamW", std::move(params), options, true) {}

void Adam::update(const Segments& s) {
  kernels::AdamParams p;
  p.lr = lr();
  p.beta1 = options_.beta1;
  p.beta2 = options_.beta2;
  p.eps = options_.eps;
  p.weight_decay = options_.weight_decay;
  p.decoupled = decoupled_;
  const double t = static_cast<double>(step_count());
  p.step_size = lr() / (1.0 - std::pow(options_.beta1, t));
  p.bias2_sqrt = std::sqrt(1.0 - std::pow(options_.beta2, t));
  if (device() == Device::CPU) {
    CG_DISPATCH_FLOAT(dtype(), "Adam step", T,
                      kernels::cpu::adam_step<T>(static_cast<const OptimSegment<T>*>(s.table), s.count,
                                                 state_buffer(0).data<T>(), state_buffer(1).data<T>(), p));
  } else {
    CG_IF_CUDA(kernels::cuda::adam_step(static_cast<const OptimSegment<float>*>(s.table), s.count, s.total,
                                        state_buffer(0).data<float>(), state_buffer(1).data<float>(), p));
  }
}

// ---- gradient clipping ---------------------------------------------------------------------------

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  CG_CHECK(max_norm > 0 && !std::isnan(max_norm), "clip_grad_norm: max_norm must be > 0, found " << max_norm);
  // Contiguous runs of gradient memory, each gradient counted once; adjacent views into one
  // flat gradient buffer merge, so a flat model is one reduction and one scale.
  struct Run {
    Device device;
    DType dtype;
    const Storage* storage;
    char* data;
    int64_t n;
  };
  std::vector<Run> runs;
  std::unordered_set<const void*> seen;
  for (const Tensor& p : params) {
    if (!p.defined()) continue;
    const Tensor g = p.grad();
    if (!g.defined() || g.numel() == 0 || !seen.insert(g.raw_data()).second) continue;
    CG_CHECK(g.dtype() != DType::I32, "clip_grad_norm: gradient " << g.describe() << " is not floating-point");
    char* data = static_cast<char*>(g.raw_data());
    if (!runs.empty()) {
      Run& last = runs.back();
      if (last.storage == g.storage().get() && last.dtype == g.dtype() &&
          last.data + last.n * dtype_size(last.dtype) == data) {
        last.n += g.numel();
        continue;
      }
    }
    runs.push_back(Run{g.device(), g.dtype(), g.storage().get(), data, g.numel()});
  }
  if (runs.empty()) return 0.0;

  double sum_sq = 0;
  int64_t cuda_partials = 0;
  for (const Run& r : runs) {
    if (r.device == Device::CPU) {
      if (r.dtype == DType::F32) sum_sq += kernels::cpu::sum_squares(reinterpret_cast<const float*>(r.data), r.n);
      else sum_sq += kernels::cpu::sum_squares(reinterpret_cast<const double*>(r.data), r.n);
    } else {
      CG_IF_CUDA(cuda_partials += kernels::cuda::sum_squares_blocks(r.n));
    }
  }
  if (cuda_partials > 0) {
#ifdef CELLGRAD_CUDA
    // Partials of every run, then one fixed-order sum and one copy back. The scratch comes from
    // the caching allocator, so in a steady-state step it is a cache hit, not a cudaMalloc.
    Storage scratch((cuda_partials + 1) * sizeof(double), Device::CUDA);
    double* partials = static_cast<double*>(scratch.data());
    int64_t at = 0;
    for (const Run& r : runs) {
      if (r.device != Device::CUDA) continue;
      kernels::cuda::sum_squares(reinterpret_cast<const float*>(r.data), r.n, partials + at);
      at += kernels::cuda::sum_squares_blocks(r.n);
    }
    kernels::cuda::sum_partials(partials, cuda_partials, partials + cuda_partials);
    double cuda_sum = 0;
    kernels::cuda::copy_device_to_host(&cuda_sum, partials + cuda_partials, sizeof(double));
    sum_sq += cuda_sum;
#endif
  }

  const double norm = std::sqrt(sum_sq);
  if (!std::isfinite(norm)) return norm;
  const double coef = max_norm / (norm + 1e-6);
  if (coef >= 1.0) return norm;
  for (const Run& r : runs) {
    if (r.device == Device::CPU) {
      if (r.dtype == DType::F32) kernels::cpu::scale(reinterpret_cast<float*>(r.data), static_cast<float>(coef), r.n);
      else kernels::cpu::scale(reinterpret_cast<double*>(r.data), coef, r.n);
    } else {
      CG_IF_CUDA(kernels::cuda::scale(reinterpret_cast<float*>(r.data), static_cast<float>(coef), r.n));
    }
  }
  return norm;
}

}  // namespace cg
