#pragma once
// From a trained model (or none, for the baselines) to predicted perturbed cells of the
// held-out type, one matrix per perturbed condition value.
#include <string>
#include <vector>

#include "apps/common/perturbation_models.h"
#include "apps/predict_perturbation/data.h"

namespace cg::perturb {

struct HeldOutTask {
  std::string type;
  std::vector<int64_t> train;              // every cell except the held-out type's perturbed cells
  std::vector<int64_t> controls;           // held-out type, control
  std::vector<std::vector<int64_t>> real;  // held-out type, per perturbed value (truth)
};

HeldOutTask make_task(const PerturbData& d, const std::string& control, const std::string& type);

// Baselines. control: the held-out controls unchanged. shift: controls plus the mean
// perturbed-minus-control difference of the other types (cells pooled).
omics::DenseMatrix predict_control(const PerturbData& d, const HeldOutTask& t);
omics::DenseMatrix predict_shift(const PerturbData& d, const HeldOutTask& t, const std::string& control,
                                 const std::string& perturbed);

// scGen: delta = mean z(perturbed) - mean z(control) over the training cells, after upsampling
// every cell type to the largest type's count within each condition and subsampling both
// conditions to the same size (scGen's balancer); predicted = Dec(z(held-out controls) + delta).
omics::DenseMatrix predict_scgen(ScGenVAE& vae, const PerturbData& d, const HeldOutTask& t, const std::string& control,
                                 const std::string& perturbed, uint64_t seed, Device device);

// scVIDR: per training type, delta_t = mean z(pert_t) - mean z(ctrl_t); a linear regression of
// delta_t on the control centroid (minimum-norm least squares with intercept, as sklearn's
// LinearRegression solves the under-determined case) gives the held-out type's delta from its
// control centroid. With numeric doses, dose d uses delta(d_max) * log1p(d) / log1p(d_max).
omics::DenseMatrix predict_vidr(ScGenVAE& vae, const PerturbData& d, const HeldOutTask& t, const std::string& control,
                                const std::string& perturbed, Device device);

// The perturbed value whose response scVIDR fits to predict `value`: with numeric doses (every
// perturbed value a number) the largest positive dose, otherwise `value` itself.
std::string vidr_fit_value(const std::vector<std::string>& perturbed, const std::string& value);

// MTAe: Dec(Enc(held-out controls), one-hot(target condition)).
omics::DenseMatrix predict_mtae(MultiTaskAE& model, const PerturbData& d, const HeldOutTask& t, int target_index,
                                int n_conditions, Device device);

// One-hot condition matrix: column 0 control, column 1 + i the i-th perturbed value.
omics::DenseMatrix condition_one_hot(const PerturbData& d, const std::string& control);

}  // namespace cg::perturb
