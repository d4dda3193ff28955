#pragma once
// What fit() does differently when it runs in several processes (FitOptions::group): each takes
// a contiguous share of every global minibatch, and before each optimizer step the gradients
// become the gradient of the global batch's mean loss: each process scales its loss by its
// share of the batch, and one all-reduce per contiguous gradient segment (one for a flattened
// model) sums them. The same seed shuffles the same global batches everywhere, so with batch
// norm and dropout off the loss curve is the single process's (up to float rounding).
#include <vector>

#include "autograd/tensor.h"
#include "nn/module.h"
#include "autograd/process_group.h"

namespace cg::nn {

// Rows [rank * n / size, (rank + 1) * n / size) of a global batch of n rows.
std::vector<int64_t> local_share(const std::vector<int64_t>& global, int rank, int size);
// The smallest share any process gets of a batch of n rows.
int64_t smallest_share(int64_t n, int size);

// grad <- the sum over processes of grad, for every parameter (a missing gradient counts as
// zeros and is created, so every process reduces the same buffers). fit() scales each process's
// loss by its share of the global batch first, so the sum is the global batch's gradient.
// Float32 gradients on CUDA are reduced on the device (NCCL), contiguous ones in one call.
void reduce_gradients(ProcessGroup& group, const std::vector<Tensor>& params);

// Rank 0's parameters and buffers to every process (so all start from the same state).
void broadcast_state(ProcessGroup& group, Module& model);

}  // namespace cg::nn
