#pragma once
// The one training loop every app uses. An app describes what is specific to its model:
//   - phases: one pass over the shuffled training rows each, with its optimizer, its loss
//     weighting strategy and a forward that turns a minibatch (row indices into the app's data)
//     into named loss terms; an optional after_step (an adversary's own update);
//   - hooks at the start and end of an epoch and the validation of an epoch.
// fit() owns the rest: minibatches, zeroing, the weighted backward, the optimizer steps, the
// non-finite guard naming the term, per-epoch means, early stopping on "val_loss", the best and
// last state (HDF5 checkpoints, or an in-memory copy of the best parameters), progress lines
// and the metrics log.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/rng.h"
#include "autograd/tensor.h"
#include "nn/loss_weighting.h"
#include "nn/module.h"
#include "autograd/process_group.h"

namespace cg {
class Optimizer;
}

namespace cg::nn {

using Rows = std::vector<int64_t>;
using EpochRow = std::map<std::string, double>;

// The loss terms of one step.
struct StepTerms {
  // Combined by the phase's weighting strategy into the gradient (each already scaled by the
  // user's weight for it); with no strategy, their sum is differentiated.
  NamedLosses weighted;
  // Differentiated on their own after the weighted ones (a task that stays outside the
  // weighting, e.g. the classifier in an alternating schedule).
  NamedLosses separate;
  // Logged as train_<name> and checked for NaN/inf. Nothing else is logged.
  NamedLosses logged;
};

// One pass over the training rows per epoch.
struct Phase {
  std::string name;  // also the optimizer's name in the last checkpoint
  Optimizer* optimizer = nullptr;
  LossWeighting* weighting = nullptr;     // null: the weighted terms are summed
  std::vector<Tensor> shared_parameters;  // what gradient-combining strategies act on
  Module* zero_grad_module = nullptr;     // zeroed too before the backward (grads of other groups)
  std::function<StepTerms(const Rows&)> forward;
  // After the optimizer step (an adversary's own update); returns terms to log.
  std::function<NamedLosses(const Rows&)> after_step;
};

struct FitOptions {
  int epochs = 100;
  int patience = 20;  // epochs without a lower val_loss before stopping
  int64_t batch_size = 128;
  int64_t min_batch = 2;  // smaller batches are skipped (batch norm needs two cells)
  uint64_t seed = 0;      // of the shuffling generator (stream 3)
  std::string label;      // progress prefix and error-message prefix
  // Progress every N epochs (and the first, last, stopping one); 0: as the verbosity says (see
  // nn/progress.h: every epoch on a terminal, every ~10% in a log file).
  int report_every = 0;
  // Printed after the label on each progress line: where this fit sits in a sweep
  // (SweepProgress::prefix(), e.g. "type 3/7, model 2/4"); empty: nothing.
  std::string progress_prefix;
  // Logging order of the train_<term> columns and progress; empty: by name.
  std::vector<std::string> terms;
  // Checkpoints: best_checkpoint is written at every improvement and loaded at the end,
  // last_checkpoint at the end; both empty: the best parameters are kept in memory instead.
  std::string best_checkpoint, last_checkpoint;
  // Resumable training. Every checkpoint_every epochs (and when training ends) the whole state
  // is written atomically to resume_checkpoint: the model, every optimizer, weighting and
  // generator (the shuffling one included), the shuffled order, early stopping and the history.
  // With resume, fit() starts from that file (when it exists) and runs only the epochs after
  // the saved one, reaching bit for bit what an uninterrupted fit reaches on the CPU; a file of
  // a finished fit only restores the best state. Needs best_checkpoint, since the best weights
  // must outlive the process too.
  std::string resume_checkpoint;
  int checkpoint_every = 0;
  bool resume = false;
  // Op-level profile of one epoch's training steps (apps' --profile): 0 none; N the N-th epoch
  // (the last one when training is shorter). The table goes to stderr and into FitResult.profile.
  int profile_epoch = 0;
  // Metrics log (one row per epoch); empty paths: none.
  std::string history_csv, history_jsonl;
  // Data parallel across processes (mpirun; see nn/data_parallel.h): null means the group the
  // app joined (current_process_group(), none in a single process); a group of one is a single
  // process. Each process takes its share of every global batch of batch_size rows
  // and the gradients are averaged before each step; rank 0 alone writes the checkpoints, the
  // metrics log and progress. Not with resume or an after_step (an adversary's own update).
  ProcessGroup* group = nullptr;
  // All four files in `folder` (a path ending in '/'): best.h5, last.h5, history.csv and
  // history.jsonl; an empty folder leaves them unset.
  void write_into(const std::string& folder);
  // Resumable training in `folder` (a path ending in '/', outside any staging area): best.h5
  // and resume.h5 there, the state saved every `every` epochs, continued from when `resume`.
  void resume_into(const std::string& folder, int every, bool resume);
};

struct FitHooks {
  std::function<void(int epoch)> begin_epoch;
  // Called with the epoch's row (train_<term> means) before validation: add columns, step
  // per-epoch strategies.
  std::function<void(int epoch, EpochRow& row)> end_epoch;
  // Must set row["val_loss"] (what early stopping and the best state follow); may add more.
  std::function<void(int epoch, EpochRow& row)> validate;
};

// What fit() restores and saves besides the phases' optimizers and weightings.
struct FitState {
  Module* model = nullptr;
  std::vector<std::pair<std::string, Optimizer*>> extra_optimizers;  // e.g. a discriminator's
  std::vector<std::pair<std::string, Generator*>> generators;        // saved in the last checkpoint
};

struct FitResult {
  std::vector<EpochRow> history;   // per epoch: epoch, train_<term>, the validation columns, seconds
  std::vector<std::string> terms;  // logged terms in logging order
  int best_epoch = 0;              // 1-based
  std::string profile;             // the op table of FitOptions::profile_epoch; empty without one
  double best_val = 0, seconds = 0;
};

// `phases(epoch)` gives the phases of an epoch in order. Trains on `train` rows, leaves the
// model holding the best epoch's parameters and buffers, in eval mode. Throws NonFiniteLoss
// (naming the term and epoch) when a training term or the validation loss is not finite.
FitResult fit(const FitState& state, const std::function<std::vector<Phase*>(int epoch)>& phases, const Rows& train,
              const FitHooks& hooks, const FitOptions& options);

// Shuffles `order` in place (Fisher-Yates with the engine generator: the same seed, the same
// permutation) and cuts it into batches of batch_size, skipping any smaller than min_batch.
std::vector<Rows> shuffled_batches(Rows& order, Generator& gen, int64_t batch_size, int64_t min_batch);

}  // namespace cg::nn
