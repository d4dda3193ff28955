#pragma once
// From a trained network (or none, for the baselines) to predicted perturbed cells, in two
// steps so that a saved model can predict later, for cells it never saw:
//   fit:   what a model learns about one perturbed value from the training cells beyond its
//          weights (scGen's latent shift, scVIDR's regression, the shift baseline's gene
//          shift), as JSON kept in model.json;
//   apply: the prediction for a group of control cells of one cell type.
// The benchmark (leave one type out) and train + predict run the same two functions, so a
// saved model reproduces the benchmark's prediction exactly.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/common/perturbation_models.h"
#include "apps/predict_perturbation/data.h"

namespace cg::perturb {

// The cells a response is learned from: `rows` of X, with every cell's type and condition.
struct TrainingCells {
  const omics::DenseMatrix& X;
  const std::vector<std::string>& cell_types;
  const std::vector<std::string>& conditions;
  const std::vector<int64_t>& rows;
};

using Response = nlohmann::json;

// How a latent model turns the latent of the perturbed state into expression (--decode):
//   direct:   Dec(z + delta)                  (scGen, scVIDR; MTAe: Dec(z, c_target));
//   residual: x_ctrl + Dec(z + delta) - Dec(z) (MTAe: x_ctrl + Dec(z, c_target) - Dec(z, c_control)),
// so that what the autoencoder fails to reconstruct of the controls is not counted as a change.
enum class Decode { direct, residual };
// "direct" or "residual"; anything else is an error naming `setting` and the value found.
Decode decode_named(const std::string& name, const std::string& setting);

struct Prediction {
  omics::DenseMatrix X;       // predicted perturbed cells, one per control cell
  omics::DenseMatrix latent;  // the latent they were decoded from (0 columns for the baselines)
};

// Leave one cell type out: training cells, the held-out controls and the real perturbed cells.
struct HeldOutTask {
  std::string type;
  std::vector<int64_t> train;              // every cell except the held-out type's perturbed cells
  std::vector<int64_t> controls;           // held-out type, control
  std::vector<std::vector<int64_t>> real;  // held-out type, per perturbed value (truth)
};
HeldOutTask make_task(const PerturbData& d, const std::string& control, const std::string& type);

// shift: the mean perturbed-minus-control difference, cells pooled over the cell types that
// have both conditions among the training cells. control: the controls unchanged.
// A dose the training cells do not hold is fitted at the largest dose and scaled by
// log1p(dose) / log1p(d_max) (scVIDR's rule), as `perturbed_values` allow.
Response fit_shift(const TrainingCells& cells, const std::string& control, const std::string& perturbed,
                   const std::vector<std::string>& perturbed_values);
Prediction apply_shift(const Response& response, const omics::DenseMatrix& controls);
Prediction apply_control(const omics::DenseMatrix& controls);

// scGen: delta = mean z(perturbed) - mean z(control) over the training cells, after upsampling
// every cell type to the largest type's count within each condition and subsampling both
// conditions to the same size (scGen's balancer); predicted = Dec(z(controls) + delta).
Response fit_scgen(ScGenVAE& vae, const TrainingCells& cells, const std::string& control, const std::string& perturbed,
                   uint64_t seed, Device device);
Prediction apply_scgen(ScGenVAE& vae, const Response& response, const omics::DenseMatrix& controls, Device device,
                       Decode decode);

// scVIDR: per training type with both conditions, delta_t = mean z(pert_t) - mean z(ctrl_t);
// a linear regression of delta_t on the control centroid (minimum-norm least squares with
// intercept, as sklearn's LinearRegression solves the under-determined case) gives a new
// type's delta from its control centroid. With numeric doses, dose d uses
// delta(d_max) * log1p(d) / log1p(d_max).
Response fit_vidr(ScGenVAE& vae, const TrainingCells& cells, const std::string& control,
                  const std::vector<std::string>& perturbed_values, const std::string& perturbed, Device device);
Prediction apply_vidr(ScGenVAE& vae, const Response& response, const omics::DenseMatrix& controls, Device device,
                      Decode decode);

// The perturbed value whose response scVIDR fits to predict `value`: with numeric doses (every
// perturbed value a number) the largest positive dose, otherwise `value` itself.
std::string vidr_fit_value(const std::vector<std::string>& perturbed, const std::string& value);
// log1p(value) / log1p(fitted) when both are numbers (doses) and differ, else 1.
double dose_scale(const std::string& value, const std::string& fitted);
// True when `s` is a whole number in C syntax (strtod consumes all of it).
bool parse_number(const std::string& s, double& v);

// MTAe: Dec(Enc(controls), one-hot(target condition)); the control condition is one-hot index 0.
Prediction apply_mtae(MultiTaskAE& model, const omics::DenseMatrix& controls, int target_index, int n_conditions,
                      Device device, Decode decode);

// One-hot condition matrix: column 0 control, column 1 + i the i-th perturbed value.
omics::DenseMatrix condition_one_hot(const PerturbData& d, const std::string& control);

// Posterior means of scGen's encoder, the MTAe encoder's output (eval mode, no tape).
omics::DenseMatrix scgen_latent(ScGenVAE& vae, const omics::DenseMatrix& X, Device device);
omics::DenseMatrix mtae_latent(MultiTaskAE& model, const omics::DenseMatrix& X, Device device);

}  // namespace cg::perturb
