#pragma once
// Training utilities: a shuffled minibatch iterator over host data, early stopping, learning-
// rate warm-up (optionally followed by cosine decay), a CSV + JSON-lines metrics logger, and a
// guard that turns a NaN/inf loss term into an exception naming the term.
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "autograd/error.h"
#include "autograd/rng.h"
#include "autograd/tensor.h"

namespace cg {
class Optimizer;
}

namespace cg::nn {

// ---- minibatches ------------------------------------------------------------------------------
// Fisher-Yates over `order` with the engine generator (one next_below draw per position, from
// the last down to the second): the one shuffle that every batching in cellgrad uses.
void shuffle_in_place(std::vector<int64_t>& order, Generator& gen);

struct Batch {
  Tensor x;                             // [n, cols] rows of the data, on the iterator's device
  std::map<std::string, Tensor> extra;  // the same rows of every added column set
  std::vector<int64_t> rows;            // which rows of the data, in batch order
};

// Iterates over the rows of a row-major float matrix in minibatches. Each epoch starts from the
// identity order and, when shuffling, applies Fisher-Yates with the engine generator, so the
// order of an epoch depends only on the generator's state when the epoch starts (a checkpoint
// taken between epochs resumes the same sequence). Rows are gathered on the host into one
// buffer per batch and moved with one transfer.
//
// The data pointers are not copied: they must outlive the iterator (the Tensor constructor
// keeps the tensor alive itself).
class MinibatchIterator {
 public:
  struct Options {
    int64_t batch_size = 128;
    bool shuffle = true;
    bool drop_last = false;  // drop a final batch smaller than batch_size
    Device device = Device::CPU;
    DType dtype = DType::F32;  // of the float outputs (x and float extras)
  };
  MinibatchIterator(const float* data, int64_t rows, int64_t cols, std::shared_ptr<Generator> gen, Options options);
  // A float32 CPU tensor; the 2-D view (rows x cols) is iterated.
  MinibatchIterator(const Tensor& data, std::shared_ptr<Generator> gen, Options options);

  // Per-row int32 labels, yielded as an int32 [n] tensor under `name` in Batch::extra.
  void add_labels(const std::string& name, const int32_t* labels, int64_t rows);
  // Extra per-row float columns ([rows, cols] row-major), yielded as [n, cols] under `name`.
  void add_columns(const std::string& name, const float* data, int64_t rows, int64_t cols);

  // Fills `out` with the next batch and returns true, or returns false at the end of an epoch;
  // the call after that starts the next epoch (reshuffling).
  bool next(Batch& out);
  // Ends the current epoch early; the next call to next() starts a new one.
  void reset() { position_ = -1; }

  int64_t rows() const { return rows_; }
  int64_t batches_per_epoch() const;
  int64_t epoch() const { return epoch_; }                      // epochs started so far
  const std::vector<int64_t>& order() const { return order_; }  // of the current epoch

 private:
  struct Extra {
    std::string name;
    const float* f = nullptr;
    const int32_t* i = nullptr;
    int64_t cols = 1;
  };
  void start_epoch();
  void check_extra_name(const std::string& name, int64_t rows) const;

  const float* data_;
  Tensor keep_alive_;
  int64_t rows_, cols_;
  std::shared_ptr<Generator> gen_;
  Options options_;
  std::vector<Extra> extras_;
  std::vector<int64_t> order_;
  int64_t position_ = -1;  // -1: no epoch in progress
  int64_t epoch_ = 0;
};

// ---- early stopping ---------------------------------------------------------------------------
// Tracks a validation metric. An epoch improves when the value beats the best so far by more
// than min_delta (below it for Mode::Min, above it for Mode::Max); training should stop once
// `patience` consecutive epochs did not improve. A NaN value never improves.
class EarlyStopping {
 public:
  enum class Mode { Min, Max };
  struct Decision {
    bool improved;  // this epoch is the best so far (save the best model now)
    bool stop;      // patience is exhausted
  };
  explicit EarlyStopping(std::string metric, Mode mode = Mode::Min, int patience = 10, double min_delta = 0.0);

  Decision update(double value);
  // Looks the metric up by name; throws naming the metric and the keys present when it is missing.
  Decision update(const std::map<std::string, double>& metrics);

  const std::string& metric() const { return metric_; }
  bool should_stop() const { return bad_epochs_ >= patience_ && epochs_ > 0; }
  double best() const { return best_; }
  int64_t best_epoch() const { return best_epoch_; }  // 0-based; -1 before any improvement
  int64_t epochs_without_improvement() const { return bad_epochs_; }
  int64_t epochs() const { return epochs_; }

  // For checkpoints' scalars: best, best_epoch, bad_epochs, epochs (prefixed by `prefix`).
  std::map<std::string, double> state(const std::string& prefix = "early_stopping.") const;
  void load_state(const std::map<std::string, double>& scalars, const std::string& prefix = "early_stopping.");

 private:
  std::string metric_;
  Mode mode_;
  int patience_;
  double min_delta_;
  double best_;
  int64_t best_epoch_ = -1, bad_epochs_ = 0, epochs_ = 0;
};
EarlyStopping::Mode parse_early_stopping_mode(const std::string& mode);  // "min" or "max"

// ---- learning-rate schedule --------------------------------------------------------------------
// Linear warm-up to base_lr over warmup_steps optimizer steps: step s (0-based) uses
// base_lr * (s + 1) / warmup_steps, so the first step already moves and step warmup_steps - 1
// reaches base_lr. After that: constant base_lr when total_steps == 0; otherwise cosine decay
// from base_lr at step warmup_steps to min_lr at step total_steps (and min_lr beyond).
class WarmupSchedule {
 public:
  WarmupSchedule(double base_lr, int64_t warmup_steps, int64_t total_steps = 0, double min_lr = 0.0);
  double lr_at(int64_t step) const;
  // Sets the optimizer's learning rate for step `step` (call before optimizer.step()).
  void apply(Optimizer& optimizer, int64_t step) const;

 private:
  double base_, min_;
  int64_t warmup_, total_;
};

// ---- metrics logger ----------------------------------------------------------------------------
// One row per step or per epoch, written to CSV and/or JSON lines (an empty path skips that
// format) and flushed after every row so that a crashed run leaves readable files.
//
// Column policy: the CSV header is the first row's keys in insertion order. A later row may
// leave columns out (empty cells; absent from that JSON line) but may not add new ones: that
// throws cg::Error naming the new keys before anything is written. Log steps and epochs with
// two loggers (steps.csv, epochs.csv) when their columns differ.
// Numbers are written with 17 significant digits so that they read back exactly; NaN and
// infinities are "nan"/"inf"/"-inf" in the CSV and null in JSON (which has no NaN).
class MetricsLogger {
 public:
  using Value = std::variant<double, int64_t, std::string>;
  class Row {
   public:
    Row& set(const std::string& key, double v) { return put(key, v); }
    Row& set(const std::string& key, int64_t v) { return put(key, v); }
    Row& set(const std::string& key, int v) { return put(key, static_cast<int64_t>(v)); }
    Row& set(const std::string& key, const std::string& v) { return put(key, v); }
    Row& set(const std::string& key, const char* v) { return put(key, std::string(v)); }
    // Every entry of `values` as prefix + name (loss terms, weights).
    Row& set_all(const std::string& prefix, const std::map<std::string, double>& values);
    const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }

   private:
    Row& put(const std::string& key, Value v);
    std::vector<std::pair<std::string, Value>> entries_;
  };

  // append: continue existing files (the CSV's header is read back and kept).
  MetricsLogger(const std::string& csv_path, const std::string& jsonl_path, bool append = false);
  void log(const Row& row);
  const std::vector<std::string>& columns() const { return columns_; }

 private:
  std::string csv_path_, jsonl_path_;
  std::ofstream csv_, jsonl_;
  std::vector<std::string> columns_;
};

// ---- NaN / inf guard ---------------------------------------------------------------------------
// Thrown when a loss term is not finite; training loops catch it, keep the last good
// checkpoint and stop.
struct NonFiniteLoss : Error {
  NonFiniteLoss(const std::string& message, std::string term_name, double term_value)
      : Error(message), term(std::move(term_name)), value(term_value) {}
  std::string term;
  double value;
};

// Throws NonFiniteLoss naming the first term (in the order given) whose value is NaN or
// infinite, with the step for context (pass -1 to leave it out). Returns the values read, so
// the caller can log them without reading the tensors again.
std::vector<double> check_finite_losses(const std::vector<std::pair<std::string, Tensor>>& losses, int64_t step = -1);
void check_finite_losses(const std::map<std::string, double>& losses, int64_t step = -1);

}  // namespace cg::nn
