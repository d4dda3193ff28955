#pragma once
// Bootstrap spread of an evaluation metric: resample cells with replacement, recompute.
#include <cstdint>
#include <functional>
#include <vector>

namespace cg::omics {

struct BootstrapSummary {
  double mean = 0, std = 0;    // std with ddof 0 (numpy's default)
  std::vector<double> values;  // one per resample, in draw order
};

struct BootstrapOptions {
  int n_resamples = 100;
  double fraction = 0.8;  // each resample draws round(fraction * n) cells (at least 1)
  uint64_t seed = 0;
};

// metric(indices) for indices drawn with replacement from [0, n) (SplitMix64, so the same
// seed gives the same draws on every platform).
BootstrapSummary bootstrap(int64_t n, const std::function<double(const std::vector<int64_t>&)>& metric,
                           const BootstrapOptions& opt = {});

// Two populations resampled independently in each round (e.g. predicted and real cells for
// R^2 of means): metric(indices into a, indices into b).
BootstrapSummary bootstrap_pair(
    int64_t n_a, int64_t n_b,
    const std::function<double(const std::vector<int64_t>&, const std::vector<int64_t>&)>& metric,
    const BootstrapOptions& opt = {});

}  // namespace cg::omics
