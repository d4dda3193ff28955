#include "nn/fuser.h"

#include "autograd/error.h"
#include "autograd/ops.h"

namespace cg::nn {

Fuser::Fuser(int64_t modalities, int64_t features) : Module("Fuser"), modalities_(modalities), features_(features) {
  CG_CHECK(modalities > 0 && features > 0,
           "Fuser: modalities and features must be positive, found " << modalities << " and " << features);
  weight = register_parameter("weight", Tensor::full({modalities}, 1.0 / static_cast<double>(modalities)));
}

Tensor Fuser::modality_weights() const { return softmax_rows(reshape(weight, {1, modalities_})); }

Tensor Fuser::forward(const std::vector<Tensor>& latents) {
  CG_CHECK(static_cast<int64_t>(latents.size()) == modalities_, "Fuser(" << modalities_ << " modalities, " << features_
                                                                         << " features): expected " << modalities_
                                                                         << " latents, found " << latents.size());
  const int64_t n = latents.empty() || !latents[0].defined() ? 0 : latents[0].dim(0);
  std::vector<Tensor> rows;
  rows.reserve(latents.size());
  for (size_t m = 0; m < latents.size(); ++m) {
    const Tensor& z = latents[m];
    CG_CHECK(z.defined() && z.rank() == 2 && z.dim(1) == features_ && z.dim(0) == n,
             "Fuser(" << modalities_ << " modalities, " << features_ << " features): latent " << m << " must be [" << n
                      << ", " << features_ << "] like latent 0, found " << (z.defined() ? z.describe() : "undefined"));
    rows.push_back(reshape(z, {1, n * features_}));
  }
  // One GEMM instead of M scaled adds: [1, M] softmax weights x [M, N*features] stacked latents.
  Tensor stacked = concat(rows, 0);
  return reshape(matmul(modality_weights(), stacked), {n, features_});
}

}  // namespace cg::nn
