#include "apps/predict_perturbation/trainer.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "apps/common/matrix_bridge.h"
#include "apps/common/progress.h"
#include "autograd/engine.h"
#include "autograd/ops.h"

namespace cg::perturb {
namespace {

Tensor batch_of(const omics::DenseMatrix& m, const std::vector<int64_t>& rows, Device device) {
  return apps::to_tensor(apps::take_rows(m, rows), device);
}

// The mean of every loss term over the validation cells (eval mode, no tape).
double validation_loss(PerturbModel& model, const omics::DenseMatrix& X, const omics::DenseMatrix& C,
                       const std::vector<int64_t>& rows, int batch, Device device) {
  NoGradGuard no_grad;
  model.eval();
  double total = 0;
  int64_t cells = 0;
  for (size_t s = 0; s < rows.size(); s += batch) {
    const std::vector<int64_t> part(rows.begin() + s, rows.begin() + std::min(rows.size(), s + batch));
    const LossTerms terms = model.losses(batch_of(X, part, device), batch_of(C, part, device));
    total += terms.front().second.item() * static_cast<double>(part.size());
    cells += static_cast<int64_t>(part.size());
  }
  model.train();
  return total / static_cast<double>(cells);
}

std::vector<Tensor> snapshot(const nn::Module& m) {
  std::vector<Tensor> out;
  for (const auto& [n, t] : m.named_parameters()) out.push_back(t.detach().clone());
  for (const auto& [n, t] : m.named_buffers()) out.push_back(t.detach().clone());
  return out;
}

void restore(nn::Module& m, const std::vector<Tensor>& saved) {
  size_t i = 0;
  for (auto& [n, t] : m.named_parameters()) t.copy_(saved[i++]);
  for (auto& [n, t] : m.named_buffers()) t.copy_(saved[i++]);
}

}  // namespace

TrainHistory train_model(PerturbModel& model, const omics::DenseMatrix& X, const omics::DenseMatrix& C,
                         const std::vector<int64_t>& train, const std::vector<int64_t>& validation,
                         const TrainSettings& s) {
  if (train.size() < 2) throw std::runtime_error(s.label + ": fewer than two training cells");
  model.to(s.device);
  model.train();
  AdamOptions opt;
  opt.lr = s.lr;
  Adam adam(model.main_parameters(), opt);
  Generator shuffle(s.seed, 3);
  TrainHistory h;
  double best = INFINITY;
  int since_best = 0;
  std::vector<Tensor> best_state = snapshot(model);
  apps::Progress progress(s.label, s.epochs);
  std::vector<int64_t> order = train;

  for (int epoch = 1; epoch <= s.epochs; ++epoch) {
    // Fisher-Yates with the engine's counter-based generator: the same seed, the same batches.
    for (size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[shuffle.next_below(static_cast<uint32_t>(i + 1))]);
    std::map<std::string, double> sums;
    int64_t cells = 0;
    for (size_t start = 0; start + 2 <= order.size(); start += s.batch_size) {  // a last batch of 1 cell is dropped (batch norm)
      const std::vector<int64_t> rows(order.begin() + start, order.begin() + std::min(order.size(), start + s.batch_size));
      const Tensor x = batch_of(X, rows, s.device), c = batch_of(C, rows, s.device);
      LossTerms terms = model.adversary_step(x, c);
      adam.zero_grad();
      const LossTerms main = model.losses(x, c);
      terms.insert(terms.begin(), main.begin(), main.end());
      main.front().second.backward();
      adam.step();
      for (const auto& [name, t] : terms) {
        const double v = t.item();
        if (!std::isfinite(v))
          throw std::runtime_error(s.label + ": the loss term '" + name + "' became " + std::to_string(v) + " at epoch " +
                                   std::to_string(epoch) + " (the model diverged; try a lower --lr)");
        sums[name] += v * static_cast<double>(rows.size());
      }
      cells += static_cast<int64_t>(rows.size());
    }
    std::map<std::string, double> row;
    if (h.terms.empty())
      for (const auto& [name, v] : sums) h.terms.push_back(name);
    for (const auto& [name, v] : sums) row["train_" + name] = v / static_cast<double>(cells);
    const double val = validation.empty() ? row["train_loss"] : validation_loss(model, X, C, validation, 256, s.device);
    if (!std::isfinite(val)) throw std::runtime_error(s.label + ": the validation loss became non-finite at epoch " + std::to_string(epoch));
    row["val_loss"] = val;
    h.epochs.push_back(row);
    if (val < best) {
      best = val;
      h.best_epoch = epoch;
      since_best = 0;
      best_state = snapshot(model);
    } else {
      ++since_best;
    }
    std::ostringstream detail;
    detail.precision(4);
    detail << "loss " << row["train_loss"] << "  val " << val << (since_best == 0 ? " *" : "");
    progress.report(epoch, detail.str());
    if (since_best >= s.patience) break;
  }
  restore(model, best_state);
  model.eval();
  h.seconds = progress.elapsed_seconds();
  return h;
}

omics::DenseMatrix map_rows(const omics::DenseMatrix& X, Device device, const std::function<Tensor(const Tensor&)>& f,
                            int64_t chunk) {
  NoGradGuard no_grad;
  std::vector<omics::DenseMatrix> parts;
  int64_t cols = 0;
  for (int64_t s = 0; s < X.rows(); s += chunk) {
    const int64_t n = std::min(chunk, X.rows() - s);
    omics::DenseMatrix part = apps::to_matrix(f(apps::to_tensor(X.middleRows(s, n), device)));
    cols = part.cols();
    parts.push_back(std::move(part));
  }
  omics::DenseMatrix out(X.rows(), cols);
  int64_t r = 0;
  for (const auto& p : parts) {
    out.middleRows(r, p.rows()) = p;
    r += p.rows();
  }
  return out;
}

}  // namespace cg::perturb
