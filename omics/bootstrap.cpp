#include "omics/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "omics/error.h"
#include "omics/rng.h"

namespace cg::omics {
namespace {

std::vector<int64_t> draw(int64_t n, double fraction, SplitMix64& rng) {
  const auto m = std::max<int64_t>(1, static_cast<int64_t>(std::floor(fraction * double(n) + 0.5)));
  std::vector<int64_t> idx(static_cast<size_t>(m));
  for (auto& i : idx) i = static_cast<int64_t>(rng.below(static_cast<uint64_t>(n)));
  return idx;
}

void check(int64_t n, const BootstrapOptions& opt) {
  if (n < 1) throw DataError("bootstrap: population has no cells");
  if (opt.n_resamples < 1) throw DataError("bootstrap: n_resamples must be >= 1");
  if (!(opt.fraction > 0)) throw DataError("bootstrap: fraction must be positive");
}

BootstrapSummary summarize(std::vector<double> v) {
  BootstrapSummary s;
  for (double x : v) s.mean += x;
  s.mean /= double(v.size());
  for (double x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(s.std / double(v.size()));
  s.values = std::move(v);
  return s;
}

}  // namespace

BootstrapSummary bootstrap(int64_t n, const std::function<double(const std::vector<int64_t>&)>& metric,
                           const BootstrapOptions& opt) {
  check(n, opt);
  SplitMix64 rng(opt.seed);
  std::vector<double> v;
  for (int b = 0; b < opt.n_resamples; ++b) v.push_back(metric(draw(n, opt.fraction, rng)));
  return summarize(std::move(v));
}

BootstrapSummary bootstrap_pair(
    int64_t n_a, int64_t n_b,
    const std::function<double(const std::vector<int64_t>&, const std::vector<int64_t>&)>& metric,
    const BootstrapOptions& opt) {
  check(n_a, opt);
  check(n_b, opt);
  SplitMix64 rng(opt.seed);
  std::vector<double> v;
  for (int b = 0; b < opt.n_resamples; ++b) {
    const auto ia = draw(n_a, opt.fraction, rng);
    const auto ib = draw(n_b, opt.fraction, rng);
    v.push_back(metric(ia, ib));
  }
  return summarize(std::move(v));
}

}  // namespace cg::omics
