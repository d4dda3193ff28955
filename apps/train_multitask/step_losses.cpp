#include "apps/train_multitask/step_losses.h"

#include "apps/common/matrix_bridge.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "nn/losses.h"

namespace cg::multitask {

namespace {

// The rows' class labels as an int32 tensor; undefined without labels.
Tensor labels_of(const TrainData& d, const std::vector<int64_t>& rows, Device device) {
  if (d.labels.empty()) return Tensor();
  std::vector<int32_t> l;
  for (int64_t r : rows) l.push_back(d.labels[static_cast<size_t>(r)]);
  return Tensor::from_indices(l, device);
}

}  // namespace

BatchTensors make_batch(const TrainData& d, const std::vector<int64_t>& rows, Device device) {
  BatchTensors b;
  for (const auto& X : d.X) b.x.push_back(apps::to_tensor(apps::take_rows(X, rows), device));
  for (size_t m = 0; m < d.X.size(); ++m) {
    if (m >= d.counts.size() || d.counts[m].cols() == 0) {
      b.counts.emplace_back();
      b.library.emplace_back();
      continue;
    }
    const omics::DenseMatrix c = apps::take_rows(d.counts[m], rows);
    b.counts.push_back(apps::to_tensor(c, device));
    const omics::DenseMatrix library = c.rowwise().sum();
    b.library.push_back(apps::to_tensor(library, device));
  }
  if (d.condition.cols() > 0) b.condition = apps::to_tensor(apps::take_rows(d.condition, rows), device);
  b.labels = labels_of(d, rows, device);
  b.n = static_cast<int64_t>(rows.size());
  return b;
}

BatchFeeder::BatchFeeder(const TrainData& d, Device device) : d_(d), device_(device) {
  for (size_t m = 0; m < d.X.size(); ++m) {
    x_.push_back(std::make_unique<apps::RowFeeder>(d.X[m], device));
    const bool has_counts = m < d.counts.size() && d.counts[m].cols() > 0;
    library_.push_back(has_counts ? omics::DenseMatrix(d.counts[m].rowwise().sum()) : omics::DenseMatrix());
  }
  // Feeders hold references: the library matrices are in place before any feeder sees them.
  for (size_t m = 0; m < d.X.size(); ++m) {
    const bool has_counts = library_[m].size() > 0;
    counts_.push_back(has_counts ? std::make_unique<apps::RowFeeder>(d.counts[m], device) : nullptr);
    library_rows_.push_back(has_counts ? std::make_unique<apps::RowFeeder>(library_[m], device) : nullptr);
  }
  if (d.condition.cols() > 0) condition_ = std::make_unique<apps::RowFeeder>(d.condition, device);
}

BatchTensors BatchFeeder::batch(const std::vector<int64_t>& rows) const {
  BatchTensors b;
  for (const auto& x : x_) b.x.push_back(x->rows(rows));
  for (size_t m = 0; m < x_.size(); ++m) {
    b.counts.push_back(counts_[m] ? counts_[m]->rows(rows) : Tensor());
    b.library.push_back(library_rows_[m] ? library_rows_[m]->rows(rows) : Tensor());
  }
  if (condition_) b.condition = condition_->rows(rows);
  b.labels = labels_of(d_, rows, device_);
  b.n = static_cast<int64_t>(rows.size());
  return b;
}

Tensor mean_of(const std::vector<Tensor>& v) {
  Tensor s = v[0];
  for (size_t i = 1; i < v.size(); ++i) s = s + v[i];
  return s * (1.0 / static_cast<double>(v.size()));
}

Terms Step::losses(const BatchTensors& b, bool with_translation, bool with_classification, double kl_factor,
                   std::vector<Tensor>* reconstructions) {
  Terms out;
  const size_t M = model_.modalities();
  auto enc = model_.encode(b.x);
  Tensor logits;
  if (a_.has("classification") && (with_classification || (with_translation && a_.has("contrastive"))))
    logits = model_.classify(model_.project(model_.fuse(enc.z)));
  if (with_classification && a_.has("classification"))
    out.t["classification"] = nn::cross_entropy(logits, b.labels, class_weights_);
  if (!with_translation) return out;
  std::vector<Tensor> rec(M), rec_terms;
  for (size_t m = 0; m < M; ++m) {
    rec[m] = model_.decode(m, enc.z[m], b.condition);
    rec_terms.push_back(model_.output_loss(m, rec[m], b.x[m], b.counts[m], b.library[m]));
  }
  if (a_.has("reconstruction")) out.t["reconstruction"] = mean_of(rec_terms);
  if (a_.has("translation")) {
    std::vector<Tensor> tr;
    for (size_t i = 0; i < M; ++i)
      for (size_t j = 0; j < M; ++j)
        if (i != j)
          tr.push_back(model_.output_loss(i, model_.decode(i, enc.z[j], b.condition), b.x[i], b.counts[i], b.library[i]));
    out.t["translation"] = mean_of(tr);
  }
  if (reconstructions) {
    reconstructions->clear();
    for (size_t m = 0; m < M; ++m) reconstructions->push_back(d_.bce[m] ? sigmoid(rec[m]) : rec[m]);
  }
  if (a_.has("generator")) {
    std::vector<Tensor> g;
    for (size_t m = 0; m < M; ++m)
      g.push_back(nn::lsgan_generator_loss(model_.discriminate(m, d_.bce[m] ? sigmoid(rec[m]) : rec[m])));
    out.t["generator"] = mean_of(g);
  }
  if (a_.has("contrastive")) {
    std::vector<Tensor> proj;
    for (size_t m = 0; m < M; ++m) proj.push_back(model_.project(enc.z[m]));
    Tensor predicted;
    if (logits.defined()) {
      predicted = max_rows(logits.detach()).indices;
    } else {
      // Without a classifier every other cell is a negative (each cell its own class).
      std::vector<int32_t> ids(static_cast<size_t>(b.n));
      for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
      predicted = Tensor::from_indices(ids, proj[0].device());
    }
    Tensor con = nn::unitednet_contrastive(proj, predicted, contrastive_gen_, c_.temperature);
    // With a single predicted class the loss is a constant 0 without a graph; the gradient-
    // combining strategies need every task differentiable, so tie it to the latents (x0).
    if (!con.requires_grad()) con = con + mean(proj[0]) * 0.0;
    out.t["contrastive"] = con;
  }
  if (a_.has("kl")) {
    std::vector<Tensor> kl;
    for (size_t m = 0; m < M; ++m) kl.push_back(nn::gaussian_kl(enc.mu[m], enc.logvar[m], 1.0, nn::KlUnits::Mean));
    out.t["kl"] = mean_of(kl) * kl_factor;
  }
  return out;
}

Tensor Step::discriminator_loss(const BatchTensors& b, const std::vector<Tensor>& reconstructions) {
  std::vector<Tensor> dl;
  for (size_t m = 0; m < model_.modalities(); ++m)
    dl.push_back(nn::lsgan_discriminator_loss(model_.discriminate(m, b.x[m]),
                                              model_.discriminate(m, reconstructions[m].detach())));
  return mean_of(dl);
}

void validation_losses(Step& step, UnitedNetModel& model, const BatchTensors& validation, const Config& c,
                       bool with_translation, bool with_classification, std::map<std::string, double>& row) {
  NoGradGuard no_grad;
  model.eval();
  Terms vt = step.losses(validation, with_translation, with_classification, 0.0);
  model.train();
  double val = 0, selected = 0;
  bool any_selected = false;
  for (const char* name : {"reconstruction", "translation", "classification"}) {
    if (!vt.t.count(name)) continue;
    const double v = vt.t.at(name).item();
    row[std::string("val_") + name] = v;
    val += weight_of(c, name) * v;
    const bool is_classification = loss_term(name).group == TermGroup::Classification;
    if (c.select_on == "sum" || (c.select_on == "classification") == is_classification) {
      selected += weight_of(c, name) * v;
      any_selected = true;
    }
  }
  row["val_loss"] = any_selected ? selected : val;
}

}  // namespace cg::multitask
