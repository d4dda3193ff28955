#include "nn/init.h"

#include <cmath>

#include "autograd/error.h"
#include "autograd/ops.h"

namespace cg::nn {

Init parse_init(const std::string& name) {
  if (name == "torch") return Init::TorchDefault;
  if (name == "kaiming") return Init::KaimingNormal;
  if (name == "xavier") return Init::XavierUniform;
  if (name == "xavier_normal") return Init::XavierNormal;
  throw Error("unknown initialisation '" + name + "' (expected torch, kaiming, xavier or xavier_normal)");
}

namespace {
Tensor uniform_in(const Shape& shape, double bound, Generator& gen) {
  return add_scalar(mul_scalar(gen.uniform(shape), 2 * bound), -bound);  // U(-bound, bound)
}
}  // namespace

Tensor init_weight(Init init, int64_t fan_in, int64_t fan_out, Generator& gen) {
  const Shape shape{fan_out, fan_in};
  switch (init) {
    case Init::TorchDefault:  // kaiming_uniform(a = sqrt(5)) reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in))
      return uniform_in(shape, 1.0 / std::sqrt(static_cast<double>(fan_in)), gen);
    case Init::KaimingNormal:  // gain sqrt(2) (ReLU), fan_in mode
      return mul_scalar(gen.normal(shape), std::sqrt(2.0 / static_cast<double>(fan_in)));
    case Init::XavierUniform: return uniform_in(shape, std::sqrt(6.0 / static_cast<double>(fan_in + fan_out)), gen);
    case Init::XavierNormal:
      return mul_scalar(gen.normal(shape), std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)));
  }
  return Tensor();
}

Tensor init_bias(Init init, int64_t fan_in, int64_t fan_out, Generator& gen) {
  if (init == Init::TorchDefault) return uniform_in({fan_out}, 1.0 / std::sqrt(static_cast<double>(fan_in)), gen);
  return Tensor::zeros({fan_out});
}

}  // namespace cg::nn
