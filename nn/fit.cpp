// The training skeleton (see fit.h).
#include "nn/fit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/optim.h"
#include "autograd/profiler.h"
#include "nn/checkpoint.h"
#include "nn/data_parallel.h"
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

void FitOptions::resume_into(const std::string& folder, int every, bool resume_run) {
  best_checkpoint = folder + "best.h5";
  resume_checkpoint = folder + "resume.h5";
  checkpoint_every = every;
  resume = resume_run;
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
  // A non-finite term stops training at once; in a process group only after every process has
  // heard of it (check_group), so that none is left waiting in a collective.
  void add(const NamedLosses& terms, int64_t n, bool defer_check = false) {
    for (const auto& [name, t] : terms) {
      const double v = t.item();
      if (!std::isfinite(v)) {
        if (!defer_check) diverged(label_, "loss term '" + name + "'", name, v, epoch_);
        if (bad_name_.empty()) {
          bad_name_ = name;
          bad_value_ = v;
        }
      }
      sums_[name] += v * static_cast<double>(n);
      counts_[name] += n;
    }
  }
  void check_group(ProcessGroup& group) {
    double bad = bad_name_.empty() ? 0 : 1;
    group.all_reduce_sum(&bad, 1);
    if (bad == 0) return;
    if (!bad_name_.empty()) diverged(label_, "loss term '" + bad_name_ + "'", bad_name_, bad_value_, epoch_);
    diverged(label_, "loss (on another process)", "loss", NAN, epoch_);
  }
  // Sums and counts over every process: the epoch means of the global batches.
  void all_reduce(ProcessGroup& group) {
    std::vector<double> v;
    for (const auto& [name, s] : sums_) {
      v.push_back(s);
      v.push_back(static_cast<double>(counts_.at(name)));
    }
    group.all_reduce_sum(v.data(), static_cast<int64_t>(v.size()));
    size_t i = 0;
    for (auto& [name, s] : sums_) {
      s = v[i++];
      counts_[name] = static_cast<int64_t>(v[i++]);
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
  std::string bad_name_;
  double bad_value_ = 0;
  std::map<std::string, double> sums_;
  std::map<std::string, int64_t> counts_;
};

Tensor sum_of(const NamedLosses& terms) {
  Tensor total = terms.front().second;
  for (size_t i = 1; i < terms.size(); ++i) total = total + terms[i].second;
  return total;
}

// One step on `rows`; in a process group `rows` is this process's share of a global batch of
// `global_rows`, and the gradients are reduced to the global batch's before the update.
void run_step(Phase& phase, const Rows& rows, TermMeans& means, ProcessGroup* group = nullptr,
              int64_t global_rows = 0) {
  const StepTerms terms = phase.forward(rows);
  means.add(terms.logged, static_cast<int64_t>(rows.size()), group != nullptr);
  if (group) means.check_group(*group);
  if (phase.zero_grad_module) phase.zero_grad_module->zero_grad();
  phase.optimizer->zero_grad();
  // In a group, each process's terms (means over its share) are scaled by its share of the global
  // batch before the backward, so the summed gradients are those of the global batch's mean.
  NamedLosses weighted = terms.weighted, separate = terms.separate;
  if (group) {
    const double share = static_cast<double>(rows.size()) / static_cast<double>(global_rows);
    for (auto* list : {&weighted, &separate})
      for (auto& [name, t] : *list) t = mul_scalar(t, share);
  }
  if (!weighted.empty()) {
    if (phase.weighting) phase.weighting->backward(weighted, phase.shared_parameters);
    else sum_of(weighted).backward();
  }
  for (const auto& [name, t] : separate) t.backward();
  if (group) reduce_gradients(*group, phase.optimizer->params());
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

// Every phase of every epoch, once each, in first-use order: what a resume checkpoint holds.
std::vector<Phase*> phases_of_all_epochs(const std::function<std::vector<Phase*>(int epoch)>& phases, int epochs) {
  std::vector<Phase*> all;
  for (int e = 1; e <= epochs; ++e)
    for (Phase* p : phases(e))
      if (std::find(all.begin(), all.end(), p) == all.end()) all.push_back(p);
  return all;
}

// Test hook: CELLGRAD_TEST_KILL_AFTER_EPOCH=N ends the process right after epoch N's resume
// checkpoint, as a kill would (no cleanup, no exit handlers), so tests can resume from it.
void maybe_die_for_test(int epoch) {
  const char* at = std::getenv("CELLGRAD_TEST_KILL_AFTER_EPOCH");
  if (at && std::atoi(at) == epoch) std::_Exit(137);
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
  ProcessGroup* given = o.group ? o.group : current_process_group();
  ProcessGroup* group = given && given->size() > 1 ? given : nullptr;
  const bool writer = !group || group->rank() == 0;  // the process that writes files and progress
  CG_CHECK(!group || o.resume_checkpoint.empty(),
           o.label << ": resumable training is not available with several processes yet; run without --resume "
                      "or in one process");
  if (group) broadcast_state(*group, model);
  model.train();
  Generator shuffle(o.seed, 3);
  EarlyStopping stopper("val_loss", EarlyStopping::Mode::Min, o.patience);
  std::unique_ptr<MetricsLogger> logger;
  if (writer && (!o.history_csv.empty() || !o.history_jsonl.empty()))
    logger = std::make_unique<MetricsLogger>(o.history_csv, o.history_jsonl);
  TrainingState best_state;
  best_state.modules = {{"model", &model}};
  BestCopy best_copy;
  const bool to_files = writer && !o.best_checkpoint.empty();
  std::vector<Phase*> all_phases;

  FitResult result;
  result.terms = o.terms;
  Progress progress(o.label, o.epochs, o.progress_prefix);
  progress.set_every(o.report_every);
  Rows order = train;

  // Resumable: the state that a checkpoint holds, and the epoch to start from.
  const bool resumable = !o.resume_checkpoint.empty();
  CG_CHECK(!resumable || to_files, o.label << ": resumable training needs a best checkpoint file");
  const std::vector<Phase*> every_phase = resumable ? phases_of_all_epochs(phases, o.epochs) : std::vector<Phase*>{};
  auto save_resume = [&](int epoch, bool finished) {
    TrainingState s = last_state_of(state, every_phase, &shuffle);
    s.epoch = epoch;
    s.scalars = stopper.state();
    s.scalars["best_epoch"] = result.best_epoch;
    s.scalars["best_val"] = result.best_val;
    s.scalars["finished"] = finished ? 1 : 0;
    // JSON has no NaN (a term not logged in an epoch): it is written as null and read back as NaN.
    nlohmann::json history = nlohmann::json::array();
    for (const EpochRow& row : result.history) {
      nlohmann::json r = nlohmann::json::object();
      for (const auto& [k, v] : row) r[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
      history.push_back(r);
    }
    nlohmann::json meta = {{"order", order}, {"terms", result.terms}, {"history", history}};
    s.metadata = meta.dump();
    save_checkpoint(o.resume_checkpoint, s);
  };
  int first_epoch = 1;
  bool finished = false;
  if (resumable && o.resume && std::ifstream(o.resume_checkpoint).good()) {
    TrainingState s = last_state_of(state, every_phase, &shuffle);
    load_checkpoint(o.resume_checkpoint, s);
    const nlohmann::json meta = nlohmann::json::parse(s.metadata);
    order = meta.at("order").get<Rows>();
    result.terms = meta.at("terms").get<std::vector<std::string>>();
    for (const auto& r : meta.at("history")) {
      EpochRow row;
      for (auto it = r.begin(); it != r.end(); ++it)
        row[it.key()] = it.value().is_null() ? NAN : it.value().get<double>();
      result.history.push_back(row);
    }
    stopper.load_state(s.scalars);
    result.best_epoch = static_cast<int>(s.scalars.at("best_epoch"));
    result.best_val = s.scalars.at("best_val");
    finished = s.scalars.at("finished") != 0;
    first_epoch = static_cast<int>(s.epoch) + 1;
    for (const EpochRow& row : result.history)
      if (logger) {
        MetricsLogger::Row r;
        r.set("epoch", static_cast<int64_t>(row.at("epoch")));
        for (const auto& [k, v] : row)
          if (k != "epoch") r.set(k, v);
        logger->log(r);
      }
    model.train();
  }

  for (int epoch = first_epoch; epoch <= o.epochs && !finished; ++epoch) {
    if (hooks.begin_epoch) hooks.begin_epoch(epoch);
    TermMeans means(o.label, epoch);
    const bool profiling = o.profile_epoch > 0 && epoch == std::min(o.profile_epoch, o.epochs);
    const auto steps_start = std::chrono::steady_clock::now();
    if (profiling) profiler::start();
    for (Phase* phase : phases(epoch)) {
      if (std::find(all_phases.begin(), all_phases.end(), phase) == all_phases.end()) all_phases.push_back(phase);
      CG_CHECK(!group || !phase->after_step,
               o.label << ": phase '" << phase->name << "' updates a second network after each step (an adversary), "
                       << "which several processes cannot train yet; run it in one process");
      for (const Rows& rows : shuffled_batches(order, shuffle, o.batch_size, o.min_batch)) {
        if (!group) {
          run_step(*phase, rows, means);
          continue;
        }
        // Every process sees the same global batches; a batch whose smallest share is below
        // min_batch is skipped by all of them.
        const int64_t n = static_cast<int64_t>(rows.size());
        if (smallest_share(n, group->size()) < o.min_batch) continue;
        run_step(*phase, local_share(rows, group->rank(), group->size()), means, group, n);
      }
    }
    if (profiling) {
      profiler::stop();
      const double wall_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - steps_start).count();
      result.profile = "profile of " + o.label + ", epoch " + std::to_string(epoch) +
                       " (training steps; the device synchronised around each op):\n" +
                       profiler::table(profiler::results(), wall_ms);
      std::fprintf(stderr, "%s", result.profile.c_str());
    }
    if (group) means.all_reduce(*group);
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
    if (writer && progress.due(epoch, /*last=*/epoch == o.epochs || decision.stop))
      progress.report(epoch, progress_detail(result.terms, row, decision.improved));
    const bool last_epoch = decision.stop || epoch == o.epochs;
    if (resumable && (last_epoch || (o.checkpoint_every > 0 && epoch % o.checkpoint_every == 0))) {
      save_resume(epoch, last_epoch);
      maybe_die_for_test(epoch);
    }
    if (decision.stop) break;
  }
  result.seconds = progress.elapsed_seconds();
  if (writer && !o.last_checkpoint.empty()) {
    TrainingState last = last_state_of(state, resumable ? every_phase : all_phases, &shuffle);
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
