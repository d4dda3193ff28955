// WarmupSchedule: linear warm-up, then constant or cosine decay.
#include <cmath>

#include "autograd/optim.h"
#include "nn/training.h"

namespace cg::nn {

WarmupSchedule::WarmupSchedule(double base_lr, int64_t warmup_steps, int64_t total_steps, double min_lr)
    : base_(base_lr), min_(min_lr), warmup_(warmup_steps), total_(total_steps) {
  CG_CHECK(std::isfinite(base_lr) && base_lr >= 0, "warm-up schedule: base lr must be >= 0, found " << base_lr);
  CG_CHECK(warmup_steps >= 0, "warm-up schedule: warm-up steps must be >= 0, found " << warmup_steps);
  CG_CHECK(total_steps == 0 || total_steps > warmup_steps,
           "warm-up schedule: total steps (" << total_steps << ") must exceed the warm-up steps (" << warmup_steps
                                             << ") for the cosine phase, or be 0 for none");
  CG_CHECK(std::isfinite(min_lr) && min_lr >= 0 && min_lr <= base_lr,
           "warm-up schedule: min lr must be in [0, base lr], found " << min_lr);
}

double WarmupSchedule::lr_at(int64_t step) const {
  CG_CHECK(step >= 0, "warm-up schedule: step must be >= 0, found " << step);
  if (step < warmup_) return base_ * static_cast<double>(step + 1) / static_cast<double>(warmup_);
  if (total_ == 0) return base_;
  if (step >= total_) return min_;
  const double progress = static_cast<double>(step - warmup_) / static_cast<double>(total_ - warmup_);
  return min_ + (base_ - min_) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

void WarmupSchedule::apply(Optimizer& optimizer, int64_t step) const { optimizer.set_lr(lr_at(step)); }

}  // namespace cg::nn
