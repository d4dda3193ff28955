#include "nn/data_parallel.h"

#include <algorithm>

#include "base/error.h"

namespace cg::nn {
namespace {

// Consecutive parameters whose float32 gradients are adjacent in one storage (a flattened model)
// form one segment, reduced in place with one call.
struct Segment {
  float* data = nullptr;
  int64_t n = 0;
  Device device = Device::CPU;  // CUDA segments go through NCCL
};

bool in_place_ok(const Tensor& g) { return g.dtype() == DType::F32; }

// Float64 gradients (CPU only, as float64 is): one call each.
void reduce_double(ProcessGroup& group, Tensor& g) { group.all_reduce_sum(g.data<double>(), g.numel()); }

}  // namespace

std::vector<int64_t> local_share(const std::vector<int64_t>& global, int rank, int size) {
  const int64_t n = static_cast<int64_t>(global.size());
  const int64_t lo = n * rank / size, hi = n * (rank + 1) / size;
  return std::vector<int64_t>(global.begin() + lo, global.begin() + hi);
}

int64_t smallest_share(int64_t n, int size) {
  int64_t smallest = n;
  for (int r = 0; r < size; ++r) smallest = std::min(smallest, n * (r + 1) / size - n * r / size);
  return smallest;
}

void reduce_gradients(ProcessGroup& group, const std::vector<Tensor>& params) {
  std::vector<Tensor> grads;
  for (const Tensor& p : params) {
    Tensor p_handle = p;
    if (!p.grad().defined()) p_handle.set_grad(Tensor::zeros(p.shape(), p.dtype(), p.device()));
    grads.push_back(p.grad());
  }
  Segment open;
  auto flush = [&] {
    if (open.n > 0 && open.device == Device::CPU) group.all_reduce_sum(open.data, open.n);
    if (open.n > 0 && open.device == Device::CUDA) group.all_reduce_sum_device(open.data, open.n);
    open = Segment{};
  };
  for (Tensor& g : grads) {
    if (!in_place_ok(g)) {
      flush();
      reduce_double(group, g);
      continue;
    }
    float* d = g.data<float>();
    if (open.n > 0 && open.device == g.device() && open.data + open.n == d) {
      open.n += g.numel();
    } else {
      flush();
      open = {d, g.numel(), g.device()};
    }
  }
  flush();
}

void broadcast_state(ProcessGroup& group, Module& model) {
  auto send = [&](Tensor t) {
    if (t.device() == Device::CPU && t.dtype() == DType::F32) return group.broadcast(t.data<float>(), t.numel());
    if (t.device() == Device::CUDA && t.dtype() == DType::F32)
      return group.broadcast_device(t.data<float>(), t.numel());
    if (t.device() == Device::CPU && t.dtype() == DType::F64) return group.broadcast(t.data<double>(), t.numel());
    std::vector<float> host = t.to_vector<float>();
    group.broadcast(host.data(), static_cast<int64_t>(host.size()));
    t.copy_(Tensor::from_vector(host, t.shape()).to(t.dtype()));
  };
  for (auto& [name, t] : model.named_parameters()) send(t);
  for (auto& [name, t] : model.named_buffers()) send(t);
}

}  // namespace cg::nn
