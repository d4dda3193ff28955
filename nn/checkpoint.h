#pragma once
// Training checkpoints in HDF5: parameters, buffers (batch-norm running statistics), optimizer
// state, RNG state, loss-weighting state, step/epoch counts, named scalars and a free-form
// metadata string (e.g. the resolved config JSON).
//
// Layout (readable with h5py):
//   /                          attributes: format = "cellgrad-checkpoint", format_version,
//                              step, epoch (int64)
//   /metadata                  scalar fixed-length string dataset
//   /modules/<m>/parameters/<dotted name>, /modules/<m>/buffers/<dotted name>
//   /optimizers/<o>/<state entry>    attribute lr (float64)
//   /generators/<g>            uint64 [3] = seed, stream, offset
//   /loss_weightings/<w>/<state entry>, plus /loss_weightings/<w>/rng (uint64 [3]) if it has one
//   /scalars/<name>            float64 [1]
// Tensors keep their dtype and shape; CUDA tensors are copied to the host to save and back
// into the same (device) tensors on load, in place, so flat parameter views stay valid.
//
// Saving writes "<path>.tmp-<pid>" and renames it over `path`, so an interrupted or failed
// save never destroys the last good checkpoint (the temporary file is removed on error).
// Loading reads and checks everything before changing anything: one cg::Error lists every
// entry that is missing, unexpected, or of a different shape or dtype.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "autograd/rng.h"
#include "nn/module.h"

namespace cg {
class Optimizer;
}

namespace cg::nn {

class LossWeighting;

// What a checkpoint holds. The pointers are not owned; names are HDF5 link names (no '/', not
// "." and not empty) and unique within each list.
struct TrainingState {
  std::vector<std::pair<std::string, Module*>> modules;  // usually {{"model", &model}}
  std::vector<std::pair<std::string, Optimizer*>> optimizers;
  std::vector<std::pair<std::string, Generator*>> generators;
  std::vector<std::pair<std::string, LossWeighting*>> loss_weightings;
  int64_t step = 0;
  int64_t epoch = 0;
  std::map<std::string, double> scalars;  // free-form numbers (early-stopping state, best metric)
  std::string metadata;                   // free-form text
};

// Writes `state` to `path` atomically (see above). Errors name the file.
void save_checkpoint(const std::string& path, const TrainingState& state);

// Restores every listed object from `path` (modules, optimizers incl. their lr, generators,
// loss weightings) and sets step, epoch, scalars and metadata from the file. The file must hold
// exactly the listed objects and entries; a missing, unreadable, truncated or non-HDF5 file,
// or any mismatch, throws cg::Error naming the file, and nothing is changed.
void load_checkpoint(const std::string& path, TrainingState& state);

// The metadata string alone (to read a run's config before building its model).
std::string read_checkpoint_metadata(const std::string& path);

}  // namespace cg::nn
