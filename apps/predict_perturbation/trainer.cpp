#include "apps/predict_perturbation/trainer.h"

#include <cmath>

#include "apps/common/row_feeder.h"
#include "autograd/engine.h"
#include "autograd/error.h"
#include "autograd/ops.h"
#include "autograd/optim.h"
#include "nn/training.h"

namespace cg::perturb {
namespace {

// The mean of every loss term over the validation cells (eval mode, no tape).
double validation_loss(PerturbModel& model, const apps::RowFeeder& X, const apps::RowFeeder& C,
                       const std::vector<int64_t>& rows, int batch) {
  NoGradGuard no_grad;
  model.eval();
  double total = 0;
  int64_t cells = 0;
  for (size_t s = 0; s < rows.size(); s += batch) {
    const std::vector<int64_t> part(rows.begin() + s, rows.begin() + std::min(rows.size(), s + batch));
    const LossTerms terms = model.losses(X.rows(part), C.rows(part));
    total += terms.front().second.item() * static_cast<double>(part.size());
    cells += static_cast<int64_t>(part.size());
  }
  model.train();
  return total / static_cast<double>(cells);
}

}  // namespace

TrainHistory train_model(PerturbModel& model, const omics::DenseMatrix& X, const omics::DenseMatrix& C,
                         const std::vector<int64_t>& train, const std::vector<int64_t>& validation,
                         const TrainSettings& s) {
  if (train.size() < 2) throw Error(s.label + ": fewer than two training cells");
  model.to(s.device);
  const apps::RowFeeder x_rows(X, s.device), c_rows(C, s.device);
  AdamOptions opt;
  opt.lr = s.lr;
  // The thesis trains MTAe's encoder and decoder with two Adams of the same rate and warm-up:
  // Adam updates each parameter from its own moments, so one Adam over both is the same update.
  Adam adam(model.main_parameters(), opt);
  const nn::WarmupSchedule warmup(s.lr, std::max(1, s.warmup_steps));

  nn::Phase main;
  main.name = "main";
  main.optimizer = &adam;
  main.forward = [&](const nn::Rows& rows) {
    const Tensor x = x_rows.rows(rows), c = c_rows.rows(rows);
    // The step count is optimizer state, so a resumed fit continues the warm-up where it was.
    if (s.warmup_steps > 0) warmup.apply(adam, adam.step_count());
    nn::StepTerms t;
    t.logged = model.adversary_step(x, c);  // the adversary's own update comes first
    const DiscrepancyBatch discrepancy =
        s.mmd_weight > 0 ? discrepancy_batch(X, C, rows, s.mmd_weight) : DiscrepancyBatch{};
    const LossTerms terms = model.losses(x, c, s.mmd_weight > 0 ? &discrepancy : nullptr);
    t.weighted = {terms.front()};  // "loss", the model's total
    t.logged.insert(t.logged.begin(), terms.begin(), terms.end());
    return t;
  };
  nn::FitHooks hooks;
  hooks.validate = [&](int, nn::EpochRow& row) {
    row["val_loss"] =
        validation.empty() ? row.at("train_loss") : validation_loss(model, x_rows, c_rows, validation, 256);
  };
  nn::FitOptions o;
  o.epochs = s.epochs;
  o.patience = s.patience > 0 ? s.patience : s.epochs;  // a fixed budget never stops early
  o.batch_size = s.batch_size;
  o.seed = s.seed;
  o.label = s.label;
  o.progress_prefix = s.progress_prefix;
  o.profile_epoch = s.profile ? 2 : 0;
  if (!s.checkpoint_folder.empty()) o.resume_into(s.checkpoint_folder + "/", s.checkpoint_every, s.resume);
  return nn::fit(
      {&model, model.internal_optimizers(), model.generators()}, [&](int) { return std::vector<nn::Phase*>{&main}; },
      train, hooks, o);
}

}  // namespace cg::perturb
