#include "apps/predict_perturbation/predictors.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "apps/common/matrix_bridge.h"
#include "autograd/engine.h"
#include "autograd/error.h"
#include "autograd/ops.h"

namespace cg::perturb {
namespace {

using omics::DenseMatrix;
using RowVec = Eigen::RowVectorXd;

RowVec column_means(const DenseMatrix& m, const std::vector<int64_t>& rows) {
  RowVec acc = RowVec::Zero(m.cols());
  for (int64_t r : rows) acc += m.row(r).cast<double>();
  return acc / static_cast<double>(std::max<size_t>(rows.size(), 1));
}

RowVec all_column_means(const DenseMatrix& m) {
  return m.rows() == 0 ? RowVec::Zero(m.cols()) : RowVec(m.cast<double>().colwise().mean());
}

DenseMatrix add_row(DenseMatrix m, const RowVec& delta) {
  m.rowwise() += delta.cast<float>();
  return m;
}

// Vectors and matrices in model.json: JSON numbers are written shortest-round-trip, so a
// double comes back bit-identical.
nlohmann::json to_json(const RowVec& v) { return std::vector<double>(v.data(), v.data() + v.size()); }
RowVec vector_from_json(const nlohmann::json& j, const std::string& what, int64_t expected) {
  if (!j.is_array()) throw Error("model.json: the response's '" + what + "' is not a list of numbers");
  const auto v = j.get<std::vector<double>>();
  if (static_cast<int64_t>(v.size()) != expected)
    throw Error("model.json: the response's '" + what + "' has " + std::to_string(v.size()) + " values, expected " +
                std::to_string(expected));
  return Eigen::Map<const RowVec>(v.data(), static_cast<int64_t>(v.size()));
}
RowVec row_from_json(const nlohmann::json& j, const std::string& key, int64_t expected) {
  if (!j.contains(key)) throw Error("model.json: the response has no '" + key + "'");
  return vector_from_json(j[key], key, expected);
}

// A decoder of latent batches: `perturbed` chooses the state decoded (for scGen the latent
// already holds the shift; MTAe decodes the same latent under the target or the control condition).
using Decoder = std::function<Tensor(const Tensor& z, bool perturbed)>;

// The one place --decode acts, for every latent model. Direct: Dec of the perturbed latent
// (apps::map_rows, as before residual decoding existed, so direct results are unchanged).
// Residual: both states decoded in the same batches of kChunk rows (map_rows' default, so the
// perturbed decode is the direct one bit for bit), and the difference is taken before it is
// added to the controls, so that a zero shift gives the controls back exactly.
DenseMatrix decode_prediction(const DenseMatrix& controls, const DenseMatrix& z_perturbed, const DenseMatrix& z_control,
                              const Decoder& dec, Decode mode, Device device) {
  if (mode == Decode::direct) return apps::map_rows(z_perturbed, device, [&](const Tensor& z) { return dec(z, true); });
  constexpr int64_t kChunk = 512;
  NoGradGuard no_grad;
  DenseMatrix out(controls.rows(), controls.cols());
  for (int64_t s = 0; s < controls.rows(); s += kChunk) {
    const int64_t n = std::min(kChunk, controls.rows() - s);
    const DenseMatrix perturbed = apps::to_matrix(dec(apps::to_tensor(z_perturbed.middleRows(s, n), device), true));
    const DenseMatrix unperturbed = apps::to_matrix(dec(apps::to_tensor(z_control.middleRows(s, n), device), false));
    if (perturbed.cols() != controls.cols())
      throw Error("residual decoding: the decoder gives " + std::to_string(perturbed.cols()) +
                  " genes, the controls have " + std::to_string(controls.cols()));
    out.middleRows(s, n) = controls.middleRows(s, n) + (perturbed - unperturbed);
  }
  return out;
}

// Training rows by cell type, for the control value and for `value`.
struct ByType {
  std::map<std::string, std::vector<int64_t>> control, perturbed;
};
ByType group_by_type(const TrainingCells& cells, const std::string& control, const std::string& value) {
  ByType g;
  for (int64_t i : cells.rows) {
    if (cells.conditions[i] == control) g.control[cells.cell_types[i]].push_back(i);
    else if (cells.conditions[i] == value) g.perturbed[cells.cell_types[i]].push_back(i);
  }
  return g;
}

}  // namespace

bool parse_number(const std::string& s, double& v) {
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return !s.empty() && end && *end == '\0';
}

double dose_scale(const std::string& value, const std::string& fitted) {
  double dose = 0, d_max = 0;
  if (value == fitted || !parse_number(value, dose) || !parse_number(fitted, d_max) || !(d_max > 0)) return 1.0;
  return std::log1p(dose) / std::log1p(d_max);
}

Decode decode_named(const std::string& name, const std::string& setting) {
  if (name == "direct") return Decode::direct;
  if (name == "residual") return Decode::residual;
  throw Error(setting + ": expected direct or residual, found '" + name + "'");
}

DenseMatrix scgen_latent(ScGenVAE& vae, const DenseMatrix& X, Device device) {
  vae.eval();
  return apps::map_rows(X, device, [&](const Tensor& x) { return vae.encode_mean(x); });
}

DenseMatrix mtae_latent(MultiTaskAE& model, const DenseMatrix& X, Device device) {
  model.eval();
  return apps::map_rows(X, device, [&](const Tensor& x) { return model.encode(x); });
}

HeldOutTask make_task(const PerturbData& d, const std::string& control, const std::string& type) {
  HeldOutTask t;
  t.type = type;
  t.real.resize(d.perturbed.size());
  for (int64_t i = 0; i < static_cast<int64_t>(d.cell_types.size()); ++i) {
    const bool held = d.cell_types[i] == type;
    if (d.conditions[i] == control) {
      t.train.push_back(i);
      if (held) t.controls.push_back(i);
      continue;
    }
    const auto it = std::find(d.perturbed.begin(), d.perturbed.end(), d.conditions[i]);
    if (it == d.perturbed.end()) continue;  // a condition value not in use
    if (held) t.real[it - d.perturbed.begin()].push_back(i);
    else t.train.push_back(i);
  }
  if (t.controls.empty()) throw Error("held-out cell type '" + type + "' has no control cells");
  return t;
}

DenseMatrix condition_one_hot(const PerturbData& d, const std::string& control) {
  DenseMatrix c =
      DenseMatrix::Zero(static_cast<int64_t>(d.conditions.size()), 1 + static_cast<int64_t>(d.perturbed.size()));
  for (size_t i = 0; i < d.conditions.size(); ++i) {
    if (d.conditions[i] == control) {
      c(i, 0) = 1;
      continue;
    }
    const auto it = std::find(d.perturbed.begin(), d.perturbed.end(), d.conditions[i]);
    if (it != d.perturbed.end()) c(i, 1 + (it - d.perturbed.begin())) = 1;
  }
  return c;
}

Prediction apply_control(const DenseMatrix& controls) { return {controls, DenseMatrix(controls.rows(), 0)}; }

Response fit_shift(const TrainingCells& cells, const std::string& control, const std::string& perturbed,
                   const std::vector<std::string>& perturbed_values) {
  // A dose the training cells do not hold (a held-out dose): fitted at the largest dose, scaled.
  bool seen = false;
  for (int64_t i : cells.rows) seen = seen || cells.conditions[i] == perturbed;
  const std::string fitted = seen ? perturbed : vidr_fit_value(perturbed_values, perturbed);
  if (fitted != perturbed) {
    Response r = fit_shift(cells, control, fitted, {});
    const double scale = dose_scale(perturbed, fitted);
    std::vector<double> shift = r["gene_shift"].get<std::vector<double>>();
    for (double& v : shift) v *= scale;
    return {{"gene_shift", shift}, {"dose_scale", scale}, {"fitted_value", fitted}};
  }
  const ByType g = group_by_type(cells, control, perturbed);
  std::vector<int64_t> ctrl, pert;
  for (const auto& [type, rows] : g.perturbed) {
    const auto c = g.control.find(type);
    if (c == g.control.end()) continue;
    ctrl.insert(ctrl.end(), c->second.begin(), c->second.end());
    pert.insert(pert.end(), rows.begin(), rows.end());
  }
  if (ctrl.empty())
    throw Error("shift baseline: no training cell type has both '" + control + "' and '" + perturbed + "' cells");
  std::sort(ctrl.begin(), ctrl.end());
  std::sort(pert.begin(), pert.end());
  return {{"gene_shift", to_json(column_means(cells.X, pert) - column_means(cells.X, ctrl))}};
}

Prediction apply_shift(const Response& response, const DenseMatrix& controls) {
  return {add_row(controls, row_from_json(response, "gene_shift", controls.cols())), DenseMatrix(controls.rows(), 0)};
}

Response fit_scgen(ScGenVAE& vae, const TrainingCells& cells, const std::string& control, const std::string& perturbed,
                   uint64_t seed, Device device) {
  const ByType g = group_by_type(cells, control, perturbed);
  Generator gen(seed, 4);
  // scGen's balancer: every type upsampled (with replacement) to the largest type's count.
  auto balance = [&](const std::map<std::string, std::vector<int64_t>>& groups) {
    size_t largest = 0;
    for (const auto& [ty, rows] : groups) largest = std::max(largest, rows.size());
    std::vector<int64_t> out;
    for (const auto& [ty, rows] : groups)
      for (size_t k = 0; k < largest; ++k) out.push_back(rows[gen.next_below(static_cast<uint32_t>(rows.size()))]);
    return out;
  };
  if (g.control.empty() || g.perturbed.empty())
    throw Error("scgen: the training cells hold no '" + (g.control.empty() ? control : perturbed) + "' cells");
  std::vector<int64_t> ctrl = balance(g.control), pert = balance(g.perturbed);
  // Subsample both conditions (without replacement) to the same size.
  const size_t eq = std::min(ctrl.size(), pert.size());
  auto subsample = [&](std::vector<int64_t>& v) {
    for (size_t i = v.size() - 1; i > 0; --i) std::swap(v[i], v[gen.next_below(static_cast<uint32_t>(i + 1))]);
    v.resize(eq);
  };
  subsample(ctrl);
  subsample(pert);
  const DenseMatrix z_ctrl = scgen_latent(vae, apps::take_rows(cells.X, ctrl), device);
  const DenseMatrix z_pert = scgen_latent(vae, apps::take_rows(cells.X, pert), device);
  return {{"latent_shift", to_json(all_column_means(z_pert) - all_column_means(z_ctrl))}};
}

Prediction apply_scgen(ScGenVAE& vae, const Response& response, const DenseMatrix& controls, Device device,
                       Decode decode) {
  const DenseMatrix z = scgen_latent(vae, controls, device);
  DenseMatrix shifted = add_row(z, row_from_json(response, "latent_shift", z.cols()));
  DenseMatrix x = decode_prediction(
      controls, shifted, z, [&](const Tensor& zb, bool) { return vae.decode(zb); }, decode, device);
  return {std::move(x), std::move(shifted)};
}

std::string vidr_fit_value(const std::vector<std::string>& perturbed, const std::string& value) {
  double v = 0, d_max = 0;
  if (!parse_number(value, v)) return value;
  std::string fit = value;
  for (const auto& p : perturbed) {
    if (!parse_number(p, v)) return value;
    if (v > d_max) {
      d_max = v;
      fit = p;
    }
  }
  return fit;
}

Response fit_vidr(ScGenVAE& vae, const TrainingCells& cells, const std::string& control,
                  const std::vector<std::string>& perturbed_values, const std::string& perturbed, Device device) {
  // With numeric doses, fit at the largest dose and scale by log1p(d) / log1p(d_max).
  const std::string fit_value = vidr_fit_value(perturbed_values, perturbed);
  const ByType g = group_by_type(cells, control, fit_value);
  std::vector<RowVec> centroids, deltas;
  for (const auto& [ty, pert] : g.perturbed) {
    const auto c = g.control.find(ty);
    if (c == g.control.end()) continue;
    const RowVec mc = all_column_means(scgen_latent(vae, apps::take_rows(cells.X, c->second), device));
    centroids.push_back(mc);
    deltas.push_back(all_column_means(scgen_latent(vae, apps::take_rows(cells.X, pert), device)) - mc);
  }
  // Across cell types the shift is regressed on the control centroid (two types at least); a dose
  // of the same cells needs only one (the regression is then zero: the mean shift, scaled).
  const size_t needed = fit_value != perturbed ? 1 : 2;
  if (centroids.size() < needed)
    throw Error("vidr: needs at least " + std::to_string(needed) + " training cell type(s) with both '" + control +
                "' and '" + fit_value + "' cells, found " + std::to_string(centroids.size()));
  const int64_t n = static_cast<int64_t>(centroids.size()), k = centroids[0].size();
  Eigen::MatrixXd A(n, k), B(n, k);
  for (int64_t i = 0; i < n; ++i) {
    A.row(i) = centroids[i];
    B.row(i) = deltas[i];
  }
  const RowVec a_mean = A.colwise().mean(), b_mean = B.colwise().mean();
  A.rowwise() -= a_mean;
  B.rowwise() -= b_mean;
  const Eigen::MatrixXd W = A.completeOrthogonalDecomposition().solve(B);  // minimum-norm least squares
  const double scale = dose_scale(perturbed, fit_value);
  nlohmann::json w = nlohmann::json::array();
  for (int64_t i = 0; i < k; ++i) w.push_back(to_json(W.row(i)));
  return {{"control_centroid_mean", to_json(a_mean)},
          {"latent_shift_mean", to_json(b_mean)},
          {"regression", w},
          {"dose_scale", scale},
          {"fitted_value", fit_value}};
}

Prediction apply_vidr(ScGenVAE& vae, const Response& response, const DenseMatrix& controls, Device device,
                      Decode decode) {
  const DenseMatrix z = scgen_latent(vae, controls, device);
  const int64_t k = z.cols();
  const RowVec a_mean = row_from_json(response, "control_centroid_mean", k);
  const RowVec b_mean = row_from_json(response, "latent_shift_mean", k);
  if (!response.contains("regression") || response["regression"].size() != static_cast<size_t>(k))
    throw Error("model.json: scVIDR's regression is not a " + std::to_string(k) + " x " + std::to_string(k) +
                " matrix");
  Eigen::MatrixXd W(k, k);
  for (int64_t i = 0; i < k; ++i) W.row(i) = vector_from_json(response["regression"][i], "regression", k);
  const RowVec delta = ((all_column_means(z) - a_mean) * W + b_mean) * response.value("dose_scale", 1.0);
  DenseMatrix shifted = add_row(z, delta);
  DenseMatrix x = decode_prediction(
      controls, shifted, z, [&](const Tensor& zb, bool) { return vae.decode(zb); }, decode, device);
  return {std::move(x), std::move(shifted)};
}

Prediction apply_mtae(MultiTaskAE& model, const DenseMatrix& controls, int target_index, int n_conditions,
                      Device device, Decode decode) {
  DenseMatrix z = mtae_latent(model, controls, device);
  DenseMatrix target = DenseMatrix::Zero(1, n_conditions), control = DenseMatrix::Zero(1, n_conditions);
  target(0, target_index) = 1;
  control(0, 0) = 1;
  DenseMatrix x = decode_prediction(
      controls, z, z,
      [&](const Tensor& zb, bool perturbed) {
        const Tensor c = apps::to_tensor((perturbed ? target : control).replicate(zb.dim(0), 1), device);
        return model.decode(zb, c);
      },
      decode, device);
  return {std::move(x), std::move(z)};
}

}  // namespace cg::perturb
