// Input checks and reductions shared by every loss, and the divergence guard.
#include <cmath>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/error.h"
#include "autograd/ops.h"
#include "nn/losses_internal.h"

namespace cg::nn {
namespace detail {

void check_float_input(const char* loss, const char* what, const Tensor& t) {
  CG_CHECK(t.defined(), "loss '" << loss << "': " << what << " is an undefined tensor");
  CG_CHECK(t.dtype() != DType::I32,
           "loss '" << loss << "': " << what << " must be floating point, found " << t.describe());
  CG_CHECK(!(t.dtype() == DType::F64 && t.device() == Device::CUDA),
           "loss '" << loss << "': " << what << " is float64 on cuda, which the engine supports on the cpu only");
}

void check_compatible(const char* loss, const char* a_name, const Tensor& a, const char* b_name, const Tensor& b) {
  check_float_input(loss, a_name, a);
  check_float_input(loss, b_name, b);
  CG_CHECK(a.device() == b.device() && a.dtype() == b.dtype(),
           "loss '" << loss << "': " << a_name << " " << a.describe() << " and " << b_name << " " << b.describe()
                    << " differ in device or dtype");
}

void check_same_shape(const char* loss, const char* a_name, const Tensor& a, const char* b_name, const Tensor& b) {
  check_compatible(loss, a_name, a, b_name, b);
  CG_CHECK(a.shape() == b.shape(), "loss '" << loss << "': " << a_name << " " << shape_str(a.shape()) << " and "
                                            << b_name << " " << shape_str(b.shape()) << " differ in shape");
}

void check_rank(const char* loss, const char* what, const Tensor& t, int rank) {
  CG_CHECK(t.defined(), "loss '" << loss << "': " << what << " is an undefined tensor");
  CG_CHECK(t.rank() == rank,
           "loss '" << loss << "': " << what << " must be rank " << rank << ", found " << t.describe());
}

void check_nonempty(const char* loss, const char* what, const Tensor& t) {
  CG_CHECK(t.numel() > 0, "loss '" << loss << "': " << what << " is empty: " << t.describe());
}

Tensor reduce_elements(const Tensor& values, Reduction reduction) {
  switch (reduction) {
    case Reduction::Mean: return mean(values);
    case Reduction::Sum: return sum(values);
    case Reduction::None: return values;
  }
  return values;
}

Tensor reduce_samples(const Tensor& per_sample, Reduction reduction) {
  if (reduction == Reduction::None) return reshape(per_sample, {per_sample.numel()});
  return reduce_elements(per_sample, reduction);
}

std::pair<double, double> value_range(const Tensor& t) {
  NoGradGuard no_grad;
  const Tensor flat = reshape(t.detach(), {1, t.numel()});
  const double hi = max_rows(flat).values.item();
  const double lo = -max_rows(neg(flat)).values.item();
  return {lo, hi};
}

std::vector<int32_t> host_labels(const char* loss, const Tensor& labels, int64_t n, int64_t num_classes) {
  CG_CHECK(labels.defined(), "loss '" << loss << "': labels is an undefined tensor");
  CG_CHECK(labels.dtype() == DType::I32 && labels.rank() == 1 && labels.numel() == n,
           "loss '" << loss << "': labels must be int32 [" << n << "], found " << labels.describe());
  std::vector<int32_t> host = labels.to_vector<int32_t>();
  for (int64_t i = 0; i < n; ++i) {
    const int32_t y = host[static_cast<size_t>(i)];
    CG_CHECK(y >= 0 && (num_classes < 0 || y < num_classes),
             "loss '" << loss << "': label " << y << " at position " << i << " is outside [0, "
                      << (num_classes < 0 ? std::string("inf") : std::to_string(num_classes)) << ")");
  }
  return host;
}

Tensor constant_like(const std::vector<double>& values, const Shape& shape, const Tensor& like) {
  Tensor t = Tensor::from_vector(values, shape);  // float64 on the host
  if (like.dtype() != DType::F64) t = t.to(like.dtype());
  if (like.device() != Device::CPU) t = t.to(like.device());
  return t;
}

}  // namespace detail

void check_finite_loss(const Tensor& loss, const std::string& term) {
  CG_CHECK(loss.defined(), "loss term '" << term << "' is an undefined tensor");
  CG_CHECK(loss.dtype() != DType::I32, "loss term '" << term << "' is not floating point: " << loss.describe());
  const std::vector<double> values = loss.to_vector<double>();
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isfinite(values[i])) continue;
    std::ostringstream os;
    os << "loss term '" << term << "' is not finite (" << values[i] << (values.size() > 1 ? " at element " : "")
       << (values.size() > 1 ? std::to_string(i) : std::string()) << "): training diverged";
    throw Error(os.str());
  }
}

}  // namespace cg::nn
