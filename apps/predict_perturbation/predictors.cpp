#include "apps/predict_perturbation/predictors.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "apps/common/matrix_bridge.h"
#include "apps/predict_perturbation/trainer.h"
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

DenseMatrix add_row(DenseMatrix m, const RowVec& delta) {
  m.rowwise() += delta.cast<float>();
  return m;
}

DenseMatrix encode_means(ScGenVAE& vae, const DenseMatrix& X, Device device) {
  vae.eval();
  return apps::map_rows(X, device, [&](const Tensor& x) { return vae.encode_mean(x); });
}

DenseMatrix decode(ScGenVAE& vae, const DenseMatrix& Z, Device device) {
  vae.eval();
  return apps::map_rows(Z, device, [&](const Tensor& z) { return vae.decode(z); });
}

bool parse_number(const std::string& s, double& v) {
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return !s.empty() && end && *end == '\0';
}

}  // namespace

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

DenseMatrix predict_control(const PerturbData& d, const HeldOutTask& t) { return apps::take_rows(d.X, t.controls); }

DenseMatrix predict_shift(const PerturbData& d, const HeldOutTask& t, const std::string& control,
                          const std::string& perturbed) {
  std::vector<int64_t> ctrl, pert;
  for (int64_t i : t.train) {
    if (d.cell_types[i] == t.type) continue;
    if (d.conditions[i] == control) ctrl.push_back(i);
    else if (d.conditions[i] == perturbed) pert.push_back(i);
  }
  if (ctrl.empty() || pert.empty()) throw Error("shift baseline: no other cell type has both conditions");
  return add_row(predict_control(d, t), column_means(d.X, pert) - column_means(d.X, ctrl));
}

DenseMatrix predict_scgen(ScGenVAE& vae, const PerturbData& d, const HeldOutTask& t, const std::string& control,
                          const std::string& perturbed, uint64_t seed, Device device) {
  // Group the training cells by condition and type.
  std::map<std::string, std::vector<int64_t>> ctrl_by_type, pert_by_type;
  for (int64_t i : t.train) {
    if (d.conditions[i] == control) ctrl_by_type[d.cell_types[i]].push_back(i);
    else if (d.conditions[i] == perturbed) pert_by_type[d.cell_types[i]].push_back(i);
  }
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
  // load_perturb_data refuses such data; this guards the balancer's arithmetic all the same.
  if (ctrl_by_type.empty() || pert_by_type.empty())
    throw Error("scgen: held-out cell type '" + t.type + "' leaves no training cells with '" +
                (ctrl_by_type.empty() ? control : perturbed) + "'");
  std::vector<int64_t> ctrl = balance(ctrl_by_type), pert = balance(pert_by_type);
  // Subsample both conditions (without replacement) to the same size.
  const size_t eq = std::min(ctrl.size(), pert.size());
  auto subsample = [&](std::vector<int64_t>& v) {
    for (size_t i = v.size() - 1; i > 0; --i) std::swap(v[i], v[gen.next_below(static_cast<uint32_t>(i + 1))]);
    v.resize(eq);
  };
  subsample(ctrl);
  subsample(pert);
  const DenseMatrix z_ctrl = encode_means(vae, apps::take_rows(d.X, ctrl), device);
  const DenseMatrix z_pert = encode_means(vae, apps::take_rows(d.X, pert), device);
  const RowVec delta = z_pert.cast<double>().colwise().mean() - z_ctrl.cast<double>().colwise().mean();
  const DenseMatrix z_held = encode_means(vae, apps::take_rows(d.X, t.controls), device);
  return decode(vae, add_row(z_held, delta), device);
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

DenseMatrix predict_vidr(ScGenVAE& vae, const PerturbData& d, const HeldOutTask& t, const std::string& control,
                         const std::string& perturbed, Device device) {
  // With numeric doses, fit at the largest dose and scale by log1p(d) / log1p(d_max).
  const std::string fit_value = vidr_fit_value(d.perturbed, perturbed);
  const DenseMatrix Z = encode_means(vae, d.X, device);
  std::map<std::string, std::vector<int64_t>> ctrl_by_type, pert_by_type;
  for (int64_t i : t.train) {
    if (d.conditions[i] == control) ctrl_by_type[d.cell_types[i]].push_back(i);
    else if (d.conditions[i] == fit_value) pert_by_type[d.cell_types[i]].push_back(i);
  }
  std::vector<RowVec> centroids, deltas;
  for (const auto& [ty, pert] : pert_by_type) {
    auto c = ctrl_by_type.find(ty);
    if (ty == t.type || c == ctrl_by_type.end()) continue;
    const RowVec mc = column_means(Z, c->second);
    centroids.push_back(mc);
    deltas.push_back(column_means(Z, pert) - mc);
  }
  if (centroids.size() < 2)
    throw Error("vidr: needs at least two training cell types with both conditions, found " +
                std::to_string(centroids.size()));
  const int64_t n = static_cast<int64_t>(centroids.size()), k = Z.cols();
  Eigen::MatrixXd A(n, k), B(n, k);
  for (int64_t i = 0; i < n; ++i) {
    A.row(i) = centroids[i];
    B.row(i) = deltas[i];
  }
  const RowVec a_mean = A.colwise().mean(), b_mean = B.colwise().mean();
  A.rowwise() -= a_mean;
  B.rowwise() -= b_mean;
  const Eigen::MatrixXd W = A.completeOrthogonalDecomposition().solve(B);  // minimum-norm least squares
  const RowVec held_centroid = column_means(Z, t.controls);
  RowVec delta = (held_centroid - a_mean) * W + b_mean;
  double dose = 0, d_max = 0;
  if (fit_value != perturbed && parse_number(perturbed, dose) && parse_number(fit_value, d_max))
    delta *= std::log1p(dose) / std::log1p(d_max);
  return decode(vae, add_row(apps::take_rows(Z, t.controls), delta), device);
}

DenseMatrix predict_mtae(MultiTaskAE& model, const PerturbData& d, const HeldOutTask& t, int target_index,
                         int n_conditions, Device device) {
  model.eval();
  const DenseMatrix ctrl = apps::take_rows(d.X, t.controls);
  DenseMatrix cond = DenseMatrix::Zero(1, n_conditions);
  cond(0, target_index) = 1;
  return apps::map_rows(ctrl, device, [&](const Tensor& x) {
    const Tensor c = apps::to_tensor(cond.replicate(x.dim(0), 1), device);
    return model.decode(model.encode(x), c);
  });
}

}  // namespace cg::perturb
