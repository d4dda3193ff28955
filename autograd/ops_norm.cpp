// layer_norm, batch_norm, l2_normalize_rows: forward and fused backward kernels. Forward saves
// the per-row or per-column mean and 1/std; backward recomputes xhat from x and those.
#include "autograd/dispatch.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "kernels/cpu/norm.h"
#ifdef CELLGRAD_CUDA
#include "kernels/cuda/norm.h"
#endif

namespace cg {
namespace {

// Optional tensors (gamma, beta, running statistics, gradients not asked for) become null.
template <class T> T* ptr(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }

// A per-feature tensor of `op`: undefined, or shape [n] with x's dtype and device.
void check_feature_vector(const char* op, const char* which, const Tensor& t, const Tensor& x, int64_t n,
                          const char* what_n) {
  if (!t.defined()) return;
  detail::check_same(op, x, t);
  CG_CHECK(t.shape() == Shape{n}, "op '" << op << "': expected " << which << " of shape [" << n << "] (" << what_n
                                         << " of input " << shape_str(x.shape()) << "), found "
                                         << shape_str(t.shape()));
}

bool wants_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  CG_PROFILE_OP("layer_norm");
  const char* op = "layer_norm";
  detail::check_float(op, x);
  const int64_t rows = x.rows(), cols = x.cols();
  CG_CHECK(cols > 0, "op 'layer_norm': the rows of " << x.describe() << " are empty (last dim 0)");
  CG_CHECK(eps >= 0, "op 'layer_norm': eps must be >= 0, found " << eps);
  check_feature_vector(op, "gamma", gamma, x, cols, "the last dim");
  check_feature_vector(op, "beta", beta, x, cols, "the last dim");
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = Tensor::empty({rows}, x.dtype(), x.device());
  Tensor rstd = Tensor::empty({rows}, x.dtype(), x.device());
  if (x.device() == Device::CPU)
    CG_DISPATCH_FLOAT(x.dtype(), op, T,
                      kernels::cpu::layer_norm_forward<T>(x.data<T>(), ptr<T>(gamma), ptr<T>(beta), y.data<T>(),
                                                          mean.data<T>(), rstd.data<T>(), rows, cols, eps));
  else
    CG_IF_CUDA(kernels::cuda::layer_norm_forward(x.data<float>(), ptr<float>(gamma), ptr<float>(beta), y.data<float>(),
                                                 mean.data<float>(), rstd.data<float>(), rows, cols, eps));
  if (!needs_grad({&x, &gamma, &beta})) return y;
  const bool need_x = wants_grad(x), need_gamma = wants_grad(gamma), need_beta = wants_grad(beta);
  const Tensor xs = x.detach(), gs = gamma.defined() ? gamma.detach() : Tensor();
  const Shape x_shape = x.shape();
  return record(y, op, {x, gamma, beta}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor gx = need_x ? Tensor::empty(x_shape, g.dtype(), g.device()) : Tensor();
    Tensor dgamma = need_gamma ? Tensor::empty({cols}, g.dtype(), g.device()) : Tensor();
    Tensor dbeta = need_beta ? Tensor::empty({cols}, g.dtype(), g.device()) : Tensor();
    if (g.device() == Device::CPU)
      CG_DISPATCH_FLOAT(
          g.dtype(), "layer_norm", T,
          kernels::cpu::layer_norm_backward<T>(g.data<T>(), xs.data<T>(), mean.data<T>(), rstd.data<T>(), ptr<T>(gs),
                                               ptr<T>(gx), ptr<T>(dgamma), ptr<T>(dbeta), rows, cols));
    else
      CG_IF_CUDA(kernels::cuda::layer_norm_backward(g.data<float>(), xs.data<float>(), mean.data<float>(),
                                                    rstd.data<float>(), ptr<float>(gs), ptr<float>(gx),
                                                    ptr<float>(dgamma), ptr<float>(dbeta), rows, cols));
    return {gx, dgamma, dbeta};
  });
}

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps) {
  CG_PROFILE_OP("batch_norm");
  const char* op = "batch_norm";
  detail::check_float(op, x);
  detail::check_rank(op, x, 2);
  const int64_t n = x.dim(0), c = x.dim(1);
  check_feature_vector(op, "gamma", gamma, x, c, "the channel dim");
  check_feature_vector(op, "beta", beta, x, c, "the channel dim");
  check_feature_vector(op, "running_mean", running_mean, x, c, "the channel dim");
  check_feature_vector(op, "running_var", running_var, x, c, "the channel dim");
  CG_CHECK(running_mean.defined() == running_var.defined(),
           "op 'batch_norm': running_mean and running_var must be given together (one is undefined)");
  CG_CHECK(training || running_mean.defined(),
           "op 'batch_norm': eval mode normalises with the running statistics, but running_mean/running_var are "
           "undefined (input "
               << shape_str(x.shape()) << ")");
  // Like PyTorch: one value per channel has no variance, and the unbiased running update would divide by zero.
  CG_CHECK(!training || n > 1,
           "op 'batch_norm': training needs more than one value per channel to compute a batch "
           "variance, found input "
               << shape_str(x.shape()));
  CG_CHECK(eps >= 0, "op 'batch_norm': eps must be >= 0, found " << eps);
  CG_CHECK(momentum >= 0 && momentum <= 1, "op 'batch_norm': momentum must lie in [0, 1], found " << momentum);

  const DType dt = x.dtype();
  const Device dev = x.device();
  Tensor mean, rstd = Tensor::empty({c}, dt, dev);
  if (training) {
    mean = Tensor::empty({c}, dt, dev);
    Tensor var = Tensor::empty({c}, dt, dev);
    if (dev == Device::CPU)
      CG_DISPATCH_FLOAT(dt, op, T, {
        kernels::cpu::batch_norm_stats<T>(x.data<T>(), mean.data<T>(), var.data<T>(), n, c);
        kernels::cpu::batch_norm_inv_std<T>(var.data<T>(), rstd.data<T>(), c, eps);
        if (running_mean.defined())
          kernels::cpu::batch_norm_update_running<T>(running_mean.data<T>(), running_var.data<T>(), mean.data<T>(),
                                                     var.data<T>(), n, c, momentum);
      });
    else
      CG_IF_CUDA({
        kernels::cuda::batch_norm_stats(x.data<float>(), mean.data<float>(), var.data<float>(), n, c);
        kernels::cuda::batch_norm_inv_std(var.data<float>(), rstd.data<float>(), c, eps);
        if (running_mean.defined())
          kernels::cuda::batch_norm_update_running(running_mean.data<float>(), running_var.data<float>(),
                                                   mean.data<float>(), var.data<float>(), n, c, momentum);
      });
  } else {
    mean = running_mean;
    if (dev == Device::CPU)
      CG_DISPATCH_FLOAT(dt, op, T, kernels::cpu::batch_norm_inv_std<T>(running_var.data<T>(), rstd.data<T>(), c, eps));
    else CG_IF_CUDA(kernels::cuda::batch_norm_inv_std(running_var.data<float>(), rstd.data<float>(), c, eps));
  }

  Tensor y = Tensor::empty({n, c}, dt, dev);
  if (dev == Device::CPU)
    CG_DISPATCH_FLOAT(dt, op, T,
                      kernels::cpu::batch_norm_apply<T>(x.data<T>(), mean.data<T>(), rstd.data<T>(), ptr<T>(gamma),
                                                        ptr<T>(beta), y.data<T>(), n, c));
  else
    CG_IF_CUDA(kernels::cuda::batch_norm_apply(x.data<float>(), mean.data<float>(), rstd.data<float>(),
                                               ptr<float>(gamma), ptr<float>(beta), y.data<float>(), n, c));
  if (!needs_grad({&x, &gamma, &beta})) return y;

  const bool need_x = wants_grad(x), need_gamma = wants_grad(gamma), need_beta = wants_grad(beta);
  const Tensor xs = x.detach(), gs = gamma.defined() ? gamma.detach() : Tensor();
  // In eval mode `mean` is the caller's running buffer, which a later training step updates in
  // place; backward must see the values this forward used. (rstd is always a fresh tensor.)
  const Tensor saved_mean = training ? mean : mean.clone();
  return record(y, op, {x, gamma, beta}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor gx = need_x ? Tensor::empty({n, c}, g.dtype(), g.device()) : Tensor();
    // The column sums are dbeta and dgamma; training also needs both for gx.
    Tensor sum_g = Tensor::empty({c}, g.dtype(), g.device());
    Tensor sum_g_xhat = Tensor::empty({c}, g.dtype(), g.device());
    if (g.device() == Device::CPU)
      CG_DISPATCH_FLOAT(g.dtype(), "batch_norm", T,
                        kernels::cpu::batch_norm_backward<T>(g.data<T>(), xs.data<T>(), saved_mean.data<T>(),
                                                             rstd.data<T>(), ptr<T>(gs), ptr<T>(gx), sum_g.data<T>(),
                                                             sum_g_xhat.data<T>(), n, c, training));
    else
      CG_IF_CUDA(kernels::cuda::batch_norm_backward(g.data<float>(), xs.data<float>(), saved_mean.data<float>(),
                                                    rstd.data<float>(), ptr<float>(gs), ptr<float>(gx),
                                                    sum_g.data<float>(), sum_g_xhat.data<float>(), n, c, training));
    return {gx, need_gamma ? sum_g_xhat : Tensor(), need_beta ? sum_g : Tensor()};
  });
}

Tensor l2_normalize_rows(const Tensor& x, double eps) {
  CG_PROFILE_OP("l2_normalize_rows");
  const char* op = "l2_normalize_rows";
  detail::check_float(op, x);
  CG_CHECK(eps >= 0, "op 'l2_normalize_rows': eps must be >= 0, found " << eps);
  const int64_t rows = x.rows(), cols = x.cols();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor norm = Tensor::empty({rows}, x.dtype(), x.device());
  if (x.device() == Device::CPU)
    CG_DISPATCH_FLOAT(x.dtype(), op, T,
                      kernels::cpu::l2_normalize_rows<T>(x.data<T>(), y.data<T>(), norm.data<T>(), rows, cols, eps));
  else
    CG_IF_CUDA(kernels::cuda::l2_normalize_rows(x.data<float>(), y.data<float>(), norm.data<float>(), rows, cols, eps));
  if (!needs_grad({&x})) return y;
  const Tensor y_saved = y.detach();
  return record(y, op, {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor gx = Tensor::empty(g.shape(), g.dtype(), g.device());
    if (g.device() == Device::CPU)
      CG_DISPATCH_FLOAT(g.dtype(), "l2_normalize_rows", T,
                        kernels::cpu::l2_normalize_rows_backward<T>(g.data<T>(), y_saved.data<T>(), norm.data<T>(),
                                                                    gx.data<T>(), rows, cols, eps));
    else
      CG_IF_CUDA(kernels::cuda::l2_normalize_rows_backward(g.data<float>(), y_saved.data<float>(), norm.data<float>(),
                                                           gx.data<float>(), rows, cols, eps));
    return {gx};
  });
}

}  // namespace cg
