#include "apps/train_multitask/attributions.h"

#include <cstdio>

#include "apps/common/matrix_bridge.h"
#include "autograd/error.h"
#include "autograd/ops.h"
#include "nn/attribution.h"
#include "omics/attribution_io.h"

namespace cg::multitask {
namespace {

Tensor training_mean(const omics::DenseMatrix& X, const std::vector<int64_t>& train, Device device) {
  const omics::DenseMatrix rows = apps::take_rows(X, train);
  const omics::DenseMatrix mean = rows.colwise().mean();
  return apps::to_tensor(mean, device);
}

void write_one(const nn::AttributionResult& r, const std::vector<std::string>& features,
               const std::vector<std::string>& outputs, const AttributionSettings& s, const std::string& stem,
               const std::string& what) {
  omics::AttributionTable t;
  t.scores = r.mean_abs;
  t.signed_mean = r.mean_signed;
  t.feature_names = features;
  t.output_names = outputs;
  t.method = r.method;
  t.uns["steps"] = omics::UnsValue::number(static_cast<double>(r.steps), true);
  t.uns["baseline"] = omics::UnsValue::text("training-cell mean");
  t.uns["what"] = omics::UnsValue::text(what);
  // Completeness (a cell's attributions sum to f(x) - f(baseline)) holds up to the quadrature
  // error, which shrinks about as 1/steps on these piecewise-linear networks; the largest
  // |f(x) - f(baseline)| gives it a scale.
  t.uns["max_completeness_error"] = omics::UnsValue::number(r.max_completeness_error());
  t.uns["max_abs_output_delta"] = omics::UnsValue::number(r.output_delta.cwiseAbs().maxCoeff());
  omics::write_attribution_h5ad(stem + ".h5ad", t);
  omics::write_attribution_csv(stem + ".csv", omics::top_features(r.mean_abs, features, outputs, s.top, r.mean_signed));
}

}  // namespace

void write_attributions(UnitedNetModel& model, const TrainData& d, const std::vector<std::string>& names,
                        const std::vector<std::vector<std::string>>& feature_names,
                        const std::vector<std::string>& class_names, const Split& split, bool classifier_trained,
                        Device device, const AttributionSettings& s, const std::string& dir) {
  if (d.condition.cols() > 0)
    throw Error("--attributions: not supported with --condition-key (FiLM-conditioned decoders)");
  model.eval();
  std::vector<int64_t> cells(split.test.begin(), split.test.begin() + std::min<size_t>(split.test.size(), s.max_cells));
  nn::AttributionOptions opt;
  opt.model = &model;
  const size_t M = d.X.size();
  std::vector<Tensor> baselines;  // per modality: the integrated-gradients baseline
  for (size_t m = 0; m < M; ++m) baselines.push_back(training_mean(d.X[m], split.train, device));
  for (size_t j = 0; j < M; ++j)
    for (size_t i = 0; i < M; ++i) {
      if (i == j || !s.wants(names[i])) continue;
      const std::string dname = names[j] + "_to_" + names[i];
      std::fprintf(stderr, "attributions %s: %zu outputs x %zu features, %zu cells\n", dname.c_str(),
                   feature_names[i].size(), feature_names[j].size(), cells.size());
      const Tensor x = apps::to_tensor(apps::take_rows(d.X[j], cells), device);
      auto f = [&, i, j](const Tensor& in) { return model.predict(i, model.encode_one(j, in), Tensor()); };
      const auto r = nn::integrated_gradients(f, x, baselines[j], s.steps, opt);
      write_one(r, feature_names[j], feature_names[i], s, dir + "attributions_" + dname, "translation " + dname);
    }
  if (!classifier_trained || !s.wants("classifier")) return;
  // The classifier sees every modality: attribute over their concatenation.
  std::vector<int64_t> widths;
  std::vector<std::string> all_features;
  std::vector<Tensor> xs;
  for (size_t m = 0; m < M; ++m) {
    widths.push_back(d.X[m].cols());
    for (const auto& f : feature_names[m]) all_features.push_back(names[m] + ":" + f);
    xs.push_back(apps::to_tensor(apps::take_rows(d.X[m], cells), device));
  }
  auto f = [&](const Tensor& in) {
    std::vector<Tensor> parts;
    int64_t start = 0;
    for (int64_t w : widths) {
      parts.push_back(slice(in, 1, start, start + w));
      start += w;
    }
    std::vector<Tensor> z;
    for (size_t m = 0; m < M; ++m) z.push_back(model.encode_one(m, parts[m]));
    return model.classify(model.project(model.fuse(z)));
  };
  std::fprintf(stderr, "attributions classifier: %zu classes x %zu features, %zu cells\n", class_names.size(),
               all_features.size(), cells.size());
  const auto r = nn::integrated_gradients(f, concat(xs, 1), concat(baselines, 1), s.steps, opt);
  write_one(r, all_features, class_names, s, dir + "attributions_classifier", "classifier logits");
}

}  // namespace cg::multitask
