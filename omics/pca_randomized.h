#pragma once
// PCA for matrices too large for the exact eigen-decomposition in omics/pca.h (which forms and
// decomposes a min(cells, features)^2 matrix: minutes past ~5,000 cells and genes): randomized
// subspace iteration (Halko, Martinsson & Tropp 2011, algorithm 4.4; what sklearn's
// svd_solver='randomized' does), with float GEMMs through the engine's CPU kernel.
#include <cstdint>

#include "omics/matrix.h"
#include "omics/pca.h"

namespace cg::omics {

// The same model as pca_fit (mean, k orthonormal components with pca_fit's sign convention,
// explained variances) from a Gaussian sketch of k + oversample columns refined by
// `power_iterations` rounds. Leading components with well separated variances agree with the
// exact ones to float precision; the trailing ones are approximations.
PcaModel pca_fit_randomized(const DenseMatrix& x, int k, uint64_t seed = 0, int oversample = 10,
                            int power_iterations = 4);

}  // namespace cg::omics
