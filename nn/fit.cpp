// The training skeleton (see fit.h).
#include "nn/fit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/optim.h"
#include "nn/checkpoint.h"
#include "nn/progress.h"
#include "nn/training.h"

namespace cg::nn {

std::vector<Rows> shuffled_batches(Rows& order, Generator& gen, int64_t batch_size, int64_t min_batch) {
  CG_CHECK(batch_size > 0, "batch size must be positive, found " << batch_size);
  shuffle_in_place(order, gen);
  std::vector<Rows> out;
  for (size_t s = 0; s < order.size(); s += static_cast<size_t>(batch_size)) {
    Rows rows(order.begin() + static_cast<std::ptrdiff_t>(s),
              order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), s + static_cast<size_t>(batch_size))));
    if (static_cast<int64_t>(rows.size()) >= min_batch) out.push_back(std::move(rows));
  }
  return out;
}

void FitOptions::write_into(const std::string& folder) {
  if (folder.empty()) return;
  best_checkpoint = folder + "best.h5";
  last_checkpoint = folder + "last.h5";
  history_csv = folder + "history.csv";
  history_jsonl = folder + "history.jsonl";
}

namespace {

[[noreturn]] void diverged(const std::string& label, const std::string& what, const std::string& term, double v,
                           int epoch) {
  std::ostringstream os;
  os << label << ": the " << what << " became " << v << " at epoch " << epoch
     << " (the model diverged; try a lower --lr)";
  throw NonFiniteLoss(os.str(), term, v);
}

// Per-epoch sums of the logged terms, weighted by batch size.
class TermMeans {
 public:
  TermMeans(const std::string& label, int epoch) : label_(label), epoch_(epoch) {}
  void add(const NamedLosses& terms, int64_t n) {
    for (const auto& [name, t] : terms) {
      const double v = t.item();
      if (!std::isfinite(v)) diverged(label_, "loss term '" + name + "'", name, v, epoch_);
      sums_[name] += v * static_cast<double>(n);
      counts_[name] += n;
    }
  }
  // train_<term> for each of `order` (NaN when never logged this epoch), or every term seen.
  void write(const std::vector<std::string>& order, EpochRow& row) const {
    if (order.empty()) {
      for (const auto& [name, s] : sums_) row["train_" + name] = s / static_cast<double>(counts_.at(name));
      return;
    }
    for (const auto& name : order) {
      const auto it = sums_.find(name);
      row["train_" + name] = it == sums_.end() ? NAN : it->second / static_cast<double>(counts_.at(name));
    }
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, s] : sums_) out.push_back(name);
    return out;
  }

 private:
  std::string label_;
  int epoch_;
  std::map<std::string, double> sums_;
  std::map<std::string, int64_t> counts_;
};

Tensor sum_of(const NamedLosses& terms) {
  Tensor total = terms.front().second;
  for (size_t i = 1; i < terms.size(); ++i) total = total + terms[i].second;
  return total;
}

void run_step(Phase& phase, const Rows& rows, TermMeans& means) {
  const StepTerms terms = phase.forward(rows);
  means.add(terms.logged, static_cast<int64_t>(rows.size()));
  if (phase.zero_grad_module) phase.zero_grad_module->zero_grad();
  phase.optimizer->zero_grad();
  if (!terms.weighted.empty()) {
    if (phase.weighting) phase.weighting->backward(terms.weighted, phase.shared_parameters);
    else sum_of(terms.weighted).backward();
  }
  for (const auto& [name, t] : terms.separate) t.backward();
  phase.optimizer->step();
  if (phase.after_step) means.add(phase.after_step(rows), static_cast<int64_t>(rows.size()));
}

// The best parameters and buffers, kept in memory when no checkpoint file is written.
class BestCopy {
 public:
  void take(const Module& m) {
    saved_.clear();
    for (const auto& [n, t] : m.named_parameters()) saved_.push_back(t.detach().clone());
    for (const auto& [n, t] : m.named_buffers()) saved_.push_back(t.detach().clone());
  }
  void restore(Module& m) const {
    if (saved_.empty()) return;
    size_t i = 0;
    for (auto& [n, t] : m.named_parameters()) t.copy_(saved_[i++]);
    for (auto& [n, t] : m.named_buffers()) t.copy_(saved_[i++]);
  }

 private:
  std::vector<Tensor> saved_;
};

// Every optimizer and weighting the phases use, once each, for the last checkpoint.
TrainingState last_state_of(const FitState& state, const std::vector<Phase*>& phases, Generator* shuffle) {
  TrainingState s;
  s.modules = {{"model", state.model}};
  std::set<const void*> seen;
  std::vector<std::pair<std::string, LossWeighting*>> weightings;
  for (Phase* p : phases) {
    if (seen.insert(p->optimizer).second) s.optimizers.push_back({p->name, p->optimizer});
    if (p->weighting && seen.insert(p->weighting).second) weightings.push_back({p->name, p->weighting});
  }
  for (const auto& o : state.extra_optimizers) s.optimizers.push_back(o);
  for (auto& [phase, w] : weightings)
    s.loss_weightings.push_back({weightings.size() == 1 ? "weighting" : "weighting." + phase, w});
  s.generators = {{"shuffle", shuffle}};
  for (const auto& g : state.generators) s.generators.push_back(g);
  return s;
}

std::string progress_detail(const std::vector<std::string>& terms, const EpochRow& row, bool improved) {
  std::ostringstream detail;
  detail.precision(4);
  for (const auto& t : terms) detail << t.substr(0, 5) << " " << row.at("train_" + t) << "  ";
  detail << "val " << row.at("val_loss") << (improved ? " *" : "");
  return detail.str();
}

}  // namespace

FitResult fit(const FitState& state, const std::function<std::vector<Phase*>(int epoch)>& phases, const Rows& train,
              const FitHooks& hooks, const FitOptions& o) {
  CG_CHECK(state.model != nullptr, o.label << ": fit needs a model");
  CG_CHECK(static_cast<int64_t>(train.size()) >= o.min_batch,
           o.label << ": " << train.size() << " training cells, at least " << o.min_batch << " are needed");
  CG_CHECK(o.epochs >= 1 && o.patience >= 1, o.label << ": epochs and patience must be at least 1");
  Module& model = *state.model;
  model.train();
  Generator shuffle(o.seed, 3);
  EarlyStopping stopper("val_loss", EarlyStopping::Mode::Min, o.patience);
  std::unique_ptr<MetricsLogger> logger;
  if (!o.history_csv.empty() || !o.history_jsonl.empty())
    logger = std::make_unique<MetricsLogger>(o.history_csv, o.history_jsonl);
  TrainingState best_state;
  best_state.modules = {{"model", &model}};
  BestCopy best_copy;
  const bool to_files = !o.best_checkpoint.empty();
  std::vector<Phase*> all_phases;

  FitResult result;
  result.terms = o.terms;
  Progress progress(o.label, o.epochs, o.progress_prefix);
  progress.set_every(o.report_every);
  Rows order = train;

  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    if (hooks.begin_epoch) hooks.begin_epoch(epoch);
    TermMeans means(o.label, epoch);
    for (Phase* phase : phases(epoch)) {
      if (std::find(all_phases.begin(), all_phases.end(), phase) == all_phases.end()) all_phases.push_back(phase);
      for (const Rows& rows : shuffled_batches(order, shuffle, o.batch_size, o.min_batch))
        run_step(*phase, rows, means);
    }
    if (result.terms.empty()) result.terms = means.names();
    EpochRow row;
    row["epoch"] = epoch;
    means.write(o.terms, row);
    if (hooks.end_epoch) hooks.end_epoch(epoch, row);
    hooks.validate(epoch, row);
    CG_CHECK(row.count("val_loss"), o.label << ": the validation hook set no val_loss");
    for (const auto& [key, v] : row)
      if (key.rfind("val_", 0) == 0 && !std::isfinite(v)) diverged(o.label, "validation loss", key, v, epoch);
    row["seconds"] = progress.elapsed_seconds();
    result.history.push_back(row);
    if (logger) {
      MetricsLogger::Row r;
      r.set("epoch", static_cast<int64_t>(epoch));
      for (const auto& [k, v] : row)
        if (k != "epoch") r.set(k, v);
      logger->log(r);
    }
    const auto decision = stopper.update(row.at("val_loss"));
    if (decision.improved) {
      result.best_epoch = epoch;
      result.best_val = row.at("val_loss");
      if (to_files) {
        best_state.epoch = epoch;
        best_state.scalars = {{"val_loss", result.best_val}};
        save_checkpoint(o.best_checkpoint, best_state);
      } else {
        best_copy.take(model);
      }
    }
    if (progress.due(epoch, /*last=*/epoch == o.epochs || decision.stop))
      progress.report(epoch, progress_detail(result.terms, row, decision.improved));
    if (decision.stop) break;
  }
  result.seconds = progress.elapsed_seconds();
  if (!o.last_checkpoint.empty()) {
    TrainingState last = last_state_of(state, all_phases, &shuffle);
    last.epoch = static_cast<int64_t>(result.history.size());
    last.scalars = {{"best_epoch", result.best_epoch}, {"best_val_loss", result.best_val}};
    save_checkpoint(o.last_checkpoint, last);
  }
  if (to_files) load_checkpoint(o.best_checkpoint, best_state);
  else best_copy.restore(model);
  model.eval();
  return result;
}

}  // namespace cg::nn
