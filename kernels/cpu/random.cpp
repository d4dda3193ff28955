#include "kernels/cpu/random.h"

#include "kernels/random_math.h"

namespace cg::kernels::cpu {

template <class T> void philox_uniform(uint64_t seed, uint64_t stream, uint64_t offset, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(philox_uniform_at(seed, stream, offset, i));
}
template <class T> void philox_normal(uint64_t seed, uint64_t stream, uint64_t offset, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(philox_normal_at(seed, stream, offset, i));
}
template <class T> void philox_bernoulli(uint64_t seed, uint64_t stream, uint64_t offset, double p, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = static_cast<T>(philox_bernoulli_at(seed, stream, offset, i, static_cast<float>(p)));
}

template void philox_uniform<float>(uint64_t, uint64_t, uint64_t, float*, int64_t);
template void philox_uniform<double>(uint64_t, uint64_t, uint64_t, double*, int64_t);
template void philox_normal<float>(uint64_t, uint64_t, uint64_t, float*, int64_t);
template void philox_normal<double>(uint64_t, uint64_t, uint64_t, double*, int64_t);
template void philox_bernoulli<float>(uint64_t, uint64_t, uint64_t, double, float*, int64_t);
template void philox_bernoulli<double>(uint64_t, uint64_t, uint64_t, double, double*, int64_t);

}  // namespace cg::kernels::cpu
