#include "apps/train_multitask/outputs.h"

#include <cmath>
#include <sstream>

#include "apps/common/matrix_bridge.h"
#include "apps/common/run_folder.h"
#include "apps/common/svg_plot.h"
#include "apps/train_multitask/pathway_encoders.h"
#include "base/text.h"
#include "omics/metrics_classification.h"
#include "omics/pca.h"

namespace cg::multitask {
namespace {

std::vector<std::string> split_labels(const Split& s, int64_t n) {
  std::vector<std::string> out(static_cast<size_t>(n), "unused");
  for (int64_t r : s.train) out[static_cast<size_t>(r)] = "train";
  for (int64_t r : s.validation) out[static_cast<size_t>(r)] = "validation";
  for (int64_t r : s.test) out[static_cast<size_t>(r)] = "test";
  return out;
}

void flatten(const nlohmann::json& j, const std::string& prefix, std::ostringstream& csv) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), csv);
  } else if (j.is_number()) {
    csv << prefix << "," << j.get<double>() << "\n";
  } else if (j.is_null()) {
    csv << prefix << ",nan\n";
  } else if (j.is_string()) {
    csv << prefix << "," << j.get<std::string>() << "\n";
  }
}

}  // namespace

void write_translations(const std::string& dir, const Evaluation& ev, const Dataset& d,
                        const std::vector<PreparedModality>& prepared, const Split& split) {
  for (const auto& dir_ : ev.directions) {
    omics::AnnData a;
    a.X = omics::Matrix::from(dir_.predicted);
    a.obs = d.obs.take(split.test);
    a.var = prepared[dir_.target].var;
    a.uns["source_modality"] = omics::UnsValue::text(prepared[dir_.source].name);
    a.uns["target_modality"] = omics::UnsValue::text(prepared[dir_.target].name);
    a.uns["scale"] = omics::UnsValue::text(model_scale_description(prepared[dir_.target].prep));
    omics::write_h5ad(dir + "translated_" + dir_.name + ".h5ad", a);
  }
}

void write_latent(const std::string& dir, const Evaluation& ev, const Dataset& d, const Split& split,
                  const std::string& label_key) {
  const int64_t n = d.cells();
  const auto splits = split_labels(split, n);
  omics::AnnData a;
  a.X = omics::Matrix::from(ev.latent);
  a.obs = d.obs;
  a.obs.set("split", omics::Column::categorical(splits));
  for (int64_t j = 0; j < ev.latent.cols(); ++j) a.var.index.push_back("latent" + std::to_string(j));
  a.obsm["X_latent"] = ev.latent;
  const omics::PcaModel pca = omics::pca_fit(apps::take_rows(ev.latent, split.train), 2);
  const omics::DenseMatrixD scores = omics::pca_transform(pca, ev.latent);
  a.obsm["X_pca"] = scores.cast<float>();
  if (!ev.classes.predicted.empty()) add_class_predictions(a, label_key, d.label_names, ev.classes);
  omics::write_h5ad(dir + "latent.h5ad", a);

  apps::CategoryScatter p;
  p.title = "fused latent, PCA (fitted on training cells)";
  p.x_label = "PC1";
  p.y_label = "PC2";
  const auto labels = d.has_labels() ? d.strata() : splits;
  for (int64_t i = 0; i < n; ++i) {
    p.x.push_back(scores(i, 0));
    p.y.push_back(scores(i, 1));
    p.category.push_back(labels[static_cast<size_t>(i)]);
  }
  if (!label_key.empty()) p.title += ", coloured by " + label_key;
  apps::write_text_file(dir + "latent_pca.svg", apps::render_svg(p));

  std::ostringstream csv;
  csv << "cell,row,split\n";
  for (int64_t i = 0; i < n; ++i)
    csv << d.obs.index[static_cast<size_t>(i)] << "," << i << "," << splits[static_cast<size_t>(i)] << "\n";
  apps::write_text_file(dir + "split.csv", csv.str());
}

void write_pathways(const std::string& dir, TranslationModel& model, const Dataset& d,
                    const std::vector<PreparedModality>& prepared, const Split& split) {
  for (size_t m = 0; m < prepared.size(); ++m) {
    if (!model.has_pathways(m)) continue;
    omics::AnnData a = pathway_anndata(pathway_activities(model, m, prepared[m].X), d.obs, prepared[m].name,
                                       model.spec().gene_encoder(m));
    a.obs.set("split", omics::Column::categorical(split_labels(split, d.cells())));
    omics::write_h5ad(dir + "pathways_" + prepared[m].name + ".h5ad", a);
  }
}

void add_class_predictions(omics::AnnData& a, const std::string& label_key, const std::vector<std::string>& classes,
                           const ClassOutputs& c) {
  std::vector<std::string> names;
  std::vector<double> top;
  for (size_t i = 0; i < c.predicted.size(); ++i) {
    names.push_back(classes[static_cast<size_t>(c.predicted[i])]);
    top.push_back(c.probabilities.row(static_cast<int64_t>(i)).maxCoeff());
  }
  a.obs.set("predicted_" + label_key, omics::Column::categorical(names, classes));
  a.obs.set("predicted_" + label_key + "_probability", omics::Column::numeric(top));
  a.obsm[label_key + "_probabilities"] = c.probabilities;
  omics::UnsValue v;
  v.type = omics::UnsValue::Type::String;
  v.scalar = false;
  v.strings = classes;
  a.uns[label_key + "_classes"] = v;
}

void write_loss_curves(const std::string& path, const TrainResult& r, const std::string& title) {
  apps::LinePlot plot;
  plot.title = title + " (best epoch " + std::to_string(r.best_epoch) + ")";
  plot.marked_x = r.best_epoch;
  plot.x_label = "epoch";
  plot.y_label = "loss (unweighted)";
  plot.log_y = true;
  std::vector<std::string> keys;
  if (!r.history.empty())
    for (const auto& [k, v] : r.history.front())
      if (k.rfind("train_", 0) == 0 || k.rfind("val_", 0) == 0) keys.push_back(k);
  for (const auto& k : keys) {
    apps::LineSeries s{k, {}};
    for (const auto& row : r.history) {
      const auto it = row.find(k);
      const double v = it == row.end() ? NAN : it->second;
      s.y.push_back(v > 0 ? v : NAN);  // log axis: a zero (e.g. no contrastive negatives) is a gap
    }
    plot.series.push_back(std::move(s));
  }
  apps::write_text_file(path, apps::render_svg(plot));
}

void write_class_report(const std::string& dir, const Evaluation& ev, const Dataset& d, const Split& split) {
  if (ev.test_predicted.empty()) return;
  std::vector<int64_t> truth;
  for (int64_t r : split.test) truth.push_back(d.labels[static_cast<size_t>(r)]);
  const omics::ClassReport r =
      omics::class_report(truth, ev.test_predicted, static_cast<int64_t>(d.label_names.size()));
  std::ostringstream per_class, confusion;
  per_class.precision(10);
  per_class << "class,support,precision,recall,f1\n";
  confusion << "true\\predicted";
  for (const auto& name : d.label_names) confusion << ',' << csv_field(name);
  confusion << '\n';
  for (size_t c = 0; c < d.label_names.size(); ++c) {
    per_class << csv_field(d.label_names[c]) << ',' << r.support[c] << ',' << r.precision[c] << ',' << r.recall[c]
              << ',' << r.f1[c] << '\n';
    confusion << csv_field(d.label_names[c]);
    for (int64_t n : r.confusion[c]) confusion << ',' << n;
    confusion << '\n';
  }
  apps::write_text_file(dir + "classification_per_class.csv", per_class.str());
  apps::write_text_file(dir + "confusion_matrix.csv", confusion.str());
}

void write_metrics(const std::string& dir, const nlohmann::json& metrics) {
  apps::write_text_file(dir + "metrics.json", metrics.dump(2) + "\n");
  std::ostringstream csv;
  csv.precision(10);
  csv << "metric,value\n";
  flatten(metrics, "", csv);
  apps::write_text_file(dir + "metrics.csv", csv.str());
}

}  // namespace cg::multitask
