#include "apps/predict_perturbation/outputs.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "apps/common/run_folder.h"
#include "apps/common/svg_bar_chart.h"
#include "apps/common/svg_plot.h"
#include "apps/predict_perturbation/gene_sets.h"
#include "omics/gene_stats.h"
#include "omics/pathway_scores.h"

namespace cg::perturb {
namespace {

void add_pathways(omics::AnnData& a, const PathwayActivities* pathways) {
  if (!pathways) return;
  a.obsm["X_pathways"] = pathways->values;
  omics::UnsValue names;
  names.type = omics::UnsValue::Type::String;
  names.scalar = false;
  names.strings = pathways->names;
  a.uns["pathway_names"] = names;
}

}  // namespace

void write_prediction_h5ad(const std::string& path, const omics::DenseMatrix& pred, const PerturbData& d,
                           const std::string& cell_type, const std::string& condition_key,
                           const std::string& cell_type_key, const std::string& perturbed,
                           const PathwayActivities* pathways) {
  omics::AnnData a;
  a.X = omics::Matrix::from(pred);
  a.var = d.var;
  const size_t n = static_cast<size_t>(pred.rows());
  for (size_t i = 0; i < n; ++i) a.obs.index.push_back("pred_" + std::to_string(i));
  a.obs.set(condition_key, omics::Column::categorical(std::vector<std::string>(n, "predicted")));
  a.obs.set(cell_type_key, omics::Column::categorical(std::vector<std::string>(n, cell_type)));
  a.obs.set("target_condition", omics::Column::categorical(std::vector<std::string>(n, perturbed)));
  add_pathways(a, pathways);
  omics::write_h5ad(path, a);
}

void write_predicted_cells(const std::string& path, const PredictedCells& p, const std::vector<std::string>& genes,
                           const std::string& cell_type_key, const std::string& condition_key,
                           const std::string& target) {
  omics::AnnData a;
  a.X = omics::Matrix::from(p.X);
  a.var.index = genes;
  const size_t n = p.source_cells.size();
  for (size_t i = 0; i < n; ++i) a.obs.index.push_back(p.source_cells[i] + "_predicted");
  a.obs.set("source_cell", omics::Column::text(p.source_cells));
  a.obs.set(cell_type_key, omics::Column::categorical(p.cell_types));
  a.obs.set(condition_key, omics::Column::categorical(std::vector<std::string>(n, "predicted")));
  a.obs.set("target_condition", omics::Column::categorical(std::vector<std::string>(n, target)));
  if (p.latent.cols() > 0) a.obsm["X_latent"] = p.latent;
  omics::write_h5ad(path, a);
}

void write_latent_h5ad(const std::string& path, const omics::DenseMatrix& latent, const omics::DataFrame& obs,
                       const PathwayActivities* pathways) {
  omics::AnnData a;
  a.X = omics::Matrix::from(latent);
  a.obs = obs;
  for (int64_t k = 0; k < latent.cols(); ++k) a.var.index.push_back("latent_" + std::to_string(k));
  a.obsm["X_latent"] = latent;
  add_pathways(a, pathways);
  omics::write_h5ad(path, a);
}

void write_mean_scatter(const std::string& path, const omics::DenseMatrix& pred, const EvalReference& ref,
                        const PerturbData& d, const std::string& title, double r2_all) {
  apps::ScatterPlot p;
  p.title = title;
  p.x_label = "mean of real perturbed cells";
  p.y_label = "mean of predicted cells";
  const Eigen::RowVectorXd mr = ref.real.cast<double>().colwise().mean(), mp = pred.cast<double>().colwise().mean();
  p.x.assign(mr.data(), mr.data() + mr.size());
  p.y.assign(mp.data(), mp.data() + mp.size());
  for (int64_t g : ref.top_degs) {
    p.highlighted.push_back(static_cast<size_t>(g));
    p.labels.push_back(d.gene_names.at(g));
  }
  char note[64];
  std::snprintf(note, sizeof note, "R^2 (all genes) = %.3f; red: top %zu DEGs", r2_all, ref.top_degs.size());
  p.note = note;
  apps::write_text_file(path, apps::render_svg(p));
}

void write_history(const std::string& csv_path, const std::string& svg_path, const TrainHistory& h,
                   const std::string& title) {
  std::vector<std::string> cols;
  for (const auto& t : h.terms) cols.push_back("train_" + t);
  cols.push_back("val_loss");
  std::ostringstream csv;
  csv << "epoch";
  for (const auto& c : cols) csv << "," << c;
  csv << "\n";
  csv.precision(8);
  for (size_t e = 0; e < h.history.size(); ++e) {
    csv << e + 1;
    for (const auto& c : cols) {
      auto it = h.history[e].find(c);
      csv << ",";
      if (it != h.history[e].end()) csv << it->second;
    }
    csv << "\n";
  }
  apps::write_text_file(csv_path, csv.str());
  apps::LinePlot plot;
  plot.title = title + " (best epoch " + std::to_string(h.best_epoch) + ")";
  plot.marked_x = h.best_epoch;
  plot.x_label = "epoch";
  plot.y_label = "loss";
  plot.log_y = true;
  for (const auto& c : cols) {
    apps::LineSeries s{c, {}};
    for (const auto& row : h.history) {
      auto it = row.find(c);
      s.y.push_back(it == row.end() ? NAN : it->second);
    }
    plot.series.push_back(std::move(s));
  }
  apps::write_text_file(svg_path, apps::render_svg(plot));
}

void print_scores(const std::string& model, const std::string& label, const nlohmann::json& m) {
  auto value = [&](const char* key) { return !m.contains(key) || m[key].is_null() ? NAN : m[key].get<double>(); };
  std::fprintf(stderr, "  %-9s %-14s R2 all %.3f  R2 top %.3f  common DEGs %d  logFC r top %.3f\n", model.c_str(),
               label.c_str(), value("r2_all"), value("r2_top"), m["common_degs"].get<int>(), value("logfc_pearson_top"));
}

nlohmann::json write_pathway_tables(const std::string& stem, const PathwaySets& sets, const omics::DenseMatrix& pred,
                                    const EvalReference& ref, const std::string& title) {
  const std::vector<double> pred_mean = omics::column_means(pred);
  std::vector<double> real_delta(ref.real_mean.size()), pred_delta(ref.real_mean.size());
  for (size_t g = 0; g < real_delta.size(); ++g) {
    real_delta[g] = ref.real_mean[g] - ref.ctrl_mean[g];
    pred_delta[g] = pred_mean[g] - ref.ctrl_mean[g];
  }
  const omics::PathwayDiscrepancy d = omics::pathway_discrepancy(sets.ids, sets.members, real_delta, pred_delta);
  apps::write_text_file(stem + ".csv", omics::discrepancy_csv(d));
  apps::write_text_file(stem + ".md", omics::discrepancy_markdown(d, title));
  apps::BarChart bars;  // the table's first rows, drawn
  bars.title = title;
  bars.value_label = "pathway score: mean over its genes of mean(perturbed) - mean(control)";
  bars.series = {{"real", {}}, {"predicted", {}}};
  std::vector<size_t> by_real_rank(d.ids.size());
  for (size_t s = 0; s < d.ids.size(); ++s) by_real_rank[s] = s;
  std::sort(by_real_rank.begin(), by_real_rank.end(),
            [&](size_t a, size_t b) { return d.real_rank[a] < d.real_rank[b]; });
  for (size_t k = 0; k < by_real_rank.size() && k < 20; ++k) {
    const size_t s = by_real_rank[k];
    bars.categories.push_back(d.ids[s]);
    bars.series[0].values.push_back(d.real[s]);
    bars.series[1].values.push_back(d.predicted[s]);
  }
  apps::write_text_file(stem + ".svg", apps::render_svg(bars));
  return std::isnan(d.pearson) ? nlohmann::json() : nlohmann::json(d.pearson);
}

}  // namespace cg::perturb
