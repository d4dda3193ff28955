#include "apps/train_multitask/trainer.h"

#include <chrono>
#include <cmath>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "apps/common/matrix_bridge.h"
#include "apps/common/progress.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/optim.h"
#include "nn/checkpoint.h"
#include "nn/loss_weighting.h"
#include "nn/losses.h"
#include "nn/training.h"

namespace cg::multitask {

std::vector<std::string> ActiveTerms::translation_group() const {
  std::vector<std::string> t;
  if (reconstruction) t.push_back("reconstruction");
  if (translation) t.push_back("translation");
  if (generator) t.push_back("generator");
  if (contrastive) t.push_back("contrastive");
  if (kl) t.push_back("kl");
  return t;
}

ActiveTerms active_terms(const Config& c, bool has_labels) {
  ActiveTerms a{};
  const bool tr = !c.no_translation;
  a.reconstruction = tr && !c.no_reconstruction && c.weight_reconstruction > 0;
  a.translation = tr && c.weight_translation > 0;
  a.discriminator = tr && !c.no_discriminator && c.weight_discriminator > 0;
  a.generator = tr && !c.no_discriminator && c.weight_generator > 0;
  a.contrastive = tr && !c.no_contrastive && c.weight_contrastive > 0;
  a.kl = tr && c.vae && c.weight_kl > 0;
  a.classification = has_labels && !c.no_classifier && c.weight_classification > 0;
  return a;
}

namespace {

struct BatchTensors {
  std::vector<Tensor> x;
  Tensor condition, labels;
  int64_t n = 0;
};

BatchTensors make_batch(const TrainData& d, const std::vector<int64_t>& rows, Device device) {
  BatchTensors b;
  for (const auto& X : d.X) b.x.push_back(apps::to_tensor(apps::take_rows(X, rows), device));
  if (d.condition.cols() > 0) b.condition = apps::to_tensor(apps::take_rows(d.condition, rows), device);
  if (!d.labels.empty()) {
    std::vector<int32_t> l;
    for (int64_t r : rows) l.push_back(d.labels[static_cast<size_t>(r)]);
    b.labels = Tensor::from_indices(l, device);
  }
  b.n = static_cast<int64_t>(rows.size());
  return b;
}

Tensor distance(bool bce, const Tensor& out, const Tensor& target) {
  return bce ? nn::bce_with_logits_loss(out, target) : nn::mse_loss(out, target);
}

Tensor mean_of(const std::vector<Tensor>& v) {
  Tensor s = v[0];
  for (size_t i = 1; i < v.size(); ++i) s = s + v[i];
  return s * (1.0 / static_cast<double>(v.size()));
}

// Every term of the translation group (and classification when asked), unweighted.
struct Terms {
  std::map<std::string, Tensor> t;
};

class Step {
 public:
  Step(UnitedNetModel& m, const Config& c, const TrainData& d, const ActiveTerms& a)
      : model_(m), c_(c), d_(d), a_(a), contrastive_gen_(c.seed, 13) {}
  void set_class_weights(const Tensor& w) { class_weights_ = w; }
  Generator& contrastive_generator() { return contrastive_gen_; }

  // The losses of one batch. with_translation / with_classification select the groups.
  Terms losses(const BatchTensors& b, bool with_translation, bool with_classification, double kl_factor,
               std::vector<Tensor>* reconstructions = nullptr) {
    Terms out;
    const size_t M = model_.modalities();
    auto enc = model_.encode(b.x);
    Tensor logits;
    if (a_.classification && (with_classification || (with_translation && a_.contrastive)))
      logits = model_.classify(model_.project(model_.fuse(enc.z)));
    if (with_classification && a_.classification) out.t["classification"] = nn::cross_entropy(logits, b.labels, class_weights_);
    if (!with_translation) return out;
    std::vector<Tensor> rec(M), rec_terms;
    for (size_t m = 0; m < M; ++m) {
      rec[m] = model_.decode(m, enc.z[m], b.condition);
      rec_terms.push_back(distance(d_.bce[m], rec[m], b.x[m]));
    }
    if (a_.reconstruction) out.t["reconstruction"] = mean_of(rec_terms);
    if (a_.translation) {
      std::vector<Tensor> tr;
      for (size_t i = 0; i < M; ++i)
        for (size_t j = 0; j < M; ++j)
          if (i != j) tr.push_back(distance(d_.bce[i], model_.decode(i, enc.z[j], b.condition), b.x[i]));
      out.t["translation"] = mean_of(tr);
    }
    if (reconstructions) {
      reconstructions->clear();
      for (size_t m = 0; m < M; ++m) reconstructions->push_back(d_.bce[m] ? sigmoid(rec[m]) : rec[m]);
    }
    if (a_.generator) {
      std::vector<Tensor> g;
      for (size_t m = 0; m < M; ++m) g.push_back(nn::lsgan_generator_loss(model_.discriminate(m, d_.bce[m] ? sigmoid(rec[m]) : rec[m])));
      out.t["generator"] = mean_of(g);
    }
    if (a_.contrastive) {
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
    if (a_.kl) {
      std::vector<Tensor> kl;
      for (size_t m = 0; m < M; ++m) kl.push_back(nn::gaussian_kl(enc.mu[m], enc.logvar[m], 1.0, nn::KlUnits::Mean));
      out.t["kl"] = mean_of(kl) * kl_factor;
    }
    return out;
  }

 private:
  UnitedNetModel& model_;
  const Config& c_;
  const TrainData& d_;
  ActiveTerms a_;
  Generator contrastive_gen_;
  Tensor class_weights_;
};

double weight_of(const Config& c, const std::string& term) {
  if (term == "reconstruction") return c.weight_reconstruction;
  if (term == "translation") return c.weight_translation;
  if (term == "generator") return c.weight_generator;
  if (term == "contrastive") return c.weight_contrastive;
  if (term == "kl") return c.weight_kl;
  if (term == "classification") return c.weight_classification;
  if (term == "discriminator") return c.weight_discriminator;
  throw std::logic_error("unknown loss term " + term);
}

std::vector<Tensor> concat_params(std::initializer_list<std::vector<Tensor>> lists) {
  std::vector<Tensor> out;
  for (const auto& l : lists) out.insert(out.end(), l.begin(), l.end());
  return out;
}

}  // namespace

TrainResult train_model(UnitedNetModel& model, const Config& c, const TrainData& d, const Split& split, Device device,
                        const std::string& folder, const std::string& label) {
  const ActiveTerms a = active_terms(c, !d.labels.empty());
  const bool joint = c.schedule == "joint";
  model.to(device);
  model.train();

  // Balanced class weights from the training cells only.
  Step step(model, c, d, a);
  if (a.classification) {
    std::vector<int32_t> tl;
    for (int64_t r : split.train) tl.push_back(d.labels[static_cast<size_t>(r)]);
    step.set_class_weights(nn::balanced_class_weights(Tensor::from_indices(tl), d.classes).to(device));
  }

  std::vector<std::string> group = a.translation_group();
  const bool has_translation = !group.empty();
  if (joint && a.classification) group.push_back("classification");
  nn::LossWeightingOptions wopt;
  wopt.device = device;
  wopt.seed = c.seed;
  wopt.regression_tasks = {"reconstruction", "translation"};
  // Terms enter the strategy already multiplied by their --weight-* value, so "fixed" is
  // exactly UnitedNet's weighted sum and the adaptive strategies act on top of the user's scale.
  std::unique_ptr<nn::LossWeighting> weighting;
  if (!group.empty()) weighting = nn::make_loss_weighting(c.weighting, group, wopt);

  AdamOptions ao;
  ao.lr = c.lr;
  std::unique_ptr<Adam> opt_translation, opt_classification, opt_joint, opt_disc;
  std::vector<Tensor> wparams = weighting ? weighting->parameters() : std::vector<Tensor>{};
  if (joint) {
    opt_joint = std::make_unique<Adam>(concat_params({model.encoder_parameters(), model.decoder_parameters(), model.head_parameters(), wparams}), ao);
  } else {
    if (!group.empty()) {
      // Without a classifier the projector (used by the contrastive term) would never be trained
      // otherwise, so it joins the translation group then.
      std::vector<Tensor> p = concat_params({model.encoder_parameters(), model.decoder_parameters(), wparams});
      if (!a.classification && a.contrastive) p = concat_params({p, model.head_parameters()});
      opt_translation = std::make_unique<Adam>(p, ao);
    }
    if (a.classification) opt_classification = std::make_unique<Adam>(concat_params({model.encoder_parameters(), model.head_parameters()}), ao);
  }
  if (a.discriminator) opt_disc = std::make_unique<Adam>(model.discriminator_parameters(), ao);

  const std::vector<Tensor> shared = c.weighting == "gradnorm" ? model.last_shared_parameters() : model.encoder_parameters();
  auto shuffle = std::make_shared<Generator>(c.seed, 3);
  nn::EarlyStopping stopper("val_loss", nn::EarlyStopping::Mode::Min, c.patience);
  std::unique_ptr<nn::MetricsLogger> logger;
  if (!folder.empty()) logger = std::make_unique<nn::MetricsLogger>(folder + "history.csv", folder + "history.jsonl");

  nn::TrainingState best_state;
  best_state.modules = {{"model", &model}};
  nn::TrainingState last_state = best_state;
  if (opt_translation) last_state.optimizers.push_back({"translation", opt_translation.get()});
  if (opt_classification) last_state.optimizers.push_back({"classification", opt_classification.get()});
  if (opt_joint) last_state.optimizers.push_back({"joint", opt_joint.get()});
  if (opt_disc) last_state.optimizers.push_back({"discriminator", opt_disc.get()});
  last_state.generators = {{"shuffle", shuffle.get()}, {"noise", &model.noise_generator()}, {"contrastive", &step.contrastive_generator()}};
  if (weighting) last_state.loss_weightings.push_back({"weighting", weighting.get()});
  // Without a folder the best parameters are kept in memory instead of best.h5.
  std::vector<Tensor> best_copy;
  auto snapshot = [&] {
    best_copy.clear();
    for (const auto& [n, t] : model.named_parameters()) best_copy.push_back(t.detach().clone());
    for (const auto& [n, t] : model.named_buffers()) best_copy.push_back(t.detach().clone());
  };

  TrainResult result;
  result.terms = group;
  if (!joint && a.classification) result.terms.push_back("classification");
  if (a.discriminator) result.terms.push_back("discriminator");

  apps::Progress progress(label, c.epochs);
  const int report_every = std::max(1, c.epochs / 15);
  std::vector<int64_t> order = split.train;
  const auto t0 = std::chrono::steady_clock::now();
  std::map<std::string, double> last_row;

  auto batches = [&] {
    for (size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[shuffle->next_below(static_cast<uint32_t>(i + 1))]);
    std::vector<std::vector<int64_t>> out;
    for (size_t s = 0; s < order.size(); s += static_cast<size_t>(c.batch_size)) {
      std::vector<int64_t> rows(order.begin() + s, order.begin() + std::min(order.size(), s + c.batch_size));
      if (rows.size() < 2) continue;  // batch norm needs two cells; a last batch of one is dropped
      out.push_back(std::move(rows));
    }
    return out;
  };

  for (int epoch = 1; epoch <= c.epochs; ++epoch) {
    const double kl_factor = c.kl_warmup > 0 ? std::min(1.0, static_cast<double>(epoch) / c.kl_warmup) : 1.0;
    std::map<std::string, double> sums;
    std::map<std::string, int64_t> counts;
    auto record = [&](const std::string& name, const Tensor& t, int64_t n) {
      const double v = t.item();
      if (!std::isfinite(v))
        throw std::runtime_error(label + ": the loss term '" + name + "' became " + std::to_string(v) + " at epoch " +
                                 std::to_string(epoch) + " (the model diverged; try a lower --lr)");
      sums[name] += v * static_cast<double>(n);
      counts[name] += n;
    };

    auto discriminator_step = [&](const BatchTensors& b, const std::vector<Tensor>& rec) {
      // Own forward on detached reconstructions, own backward, own optimizer.
      std::vector<Tensor> dl;
      for (size_t m = 0; m < model.modalities(); ++m)
        dl.push_back(nn::lsgan_discriminator_loss(model.discriminate(m, b.x[m]), model.discriminate(m, rec[m].detach())));
      Tensor loss = mean_of(dl);
      record("discriminator", loss, b.n);
      opt_disc->zero_grad();
      (loss * c.weight_discriminator).backward();
      opt_disc->step();
    };

    auto group_step = [&](const BatchTensors& b, bool with_translation, bool with_classification, Optimizer& opt) {
      std::vector<Tensor> rec;
      Terms terms = step.losses(b, with_translation, with_classification, kl_factor, opt_disc && with_translation ? &rec : nullptr);
      nn::NamedLosses named;
      for (const auto& [name, t] : terms.t) {
        record(name, t, b.n);
        if (name == "classification" && !joint) continue;
        named.push_back({name, t * weight_of(c, name)});
      }
      model.zero_grad();
      opt.zero_grad();
      if (!named.empty()) weighting->backward(named, shared);
      if (with_classification && !joint && terms.t.count("classification"))
        (terms.t.at("classification") * c.weight_classification).backward();
      opt.step();
      // After the generator step, so the discriminator sees this step's reconstructions.
      if (opt_disc && with_translation) discriminator_step(b, rec);
    };

    const auto run_translation = [&] {
      for (const auto& rows : batches()) group_step(make_batch(d, rows, device), true, false, *opt_translation);
    };
    const auto run_classification = [&] {
      for (const auto& rows : batches()) group_step(make_batch(d, rows, device), false, true, *opt_classification);
    };
    if (joint) {
      for (const auto& rows : batches()) group_step(make_batch(d, rows, device), has_translation, a.classification, *opt_joint);
    } else if (c.schedule == "alternating") {
      if (opt_translation) run_translation();
      if (opt_classification) run_classification();
    } else {  // finetune: classification first
      if (opt_classification) run_classification();
      if (opt_translation) run_translation();
    }

    std::map<std::string, double> row;
    row["epoch"] = epoch;
    std::map<std::string, double> epoch_means;
    for (const auto& t : result.terms) {
      const double v = counts[t] ? sums[t] / static_cast<double>(counts[t]) : NAN;
      row["train_" + t] = v;
      if (t != "discriminator") epoch_means[t] = v * weight_of(c, t);
    }
    if (weighting) {
      const auto w = weighting->weights();
      for (const auto& t : group) row["weight_" + t] = w.at(t) * weight_of(c, t);
      weighting->end_epoch(epoch_means);
    }
    if (!joint && a.classification) row["weight_classification"] = c.weight_classification;

    // Validation: reconstruction + translation + classification, weighted as in training.
    {
      NoGradGuard no_grad;
      model.eval();
      const BatchTensors vb = make_batch(d, split.validation, device);
      Terms vt = step.losses(vb, has_translation, a.classification, 0.0);
      model.train();
      double val = 0, selected = 0;
      bool any_selected = false;
      for (const char* name : {"reconstruction", "translation", "classification"}) {
        if (!vt.t.count(name)) continue;
        const double v = vt.t.at(name).item();
        row[std::string("val_") + name] = v;
        val += weight_of(c, name) * v;
        const bool is_classification = std::string(name) == "classification";
        if (c.select_on == "sum" || (c.select_on == "classification") == is_classification) {
          selected += weight_of(c, name) * v;
          any_selected = true;
        }
      }
      if (!std::isfinite(val)) throw std::runtime_error(label + ": the validation loss became " + std::to_string(val) + " at epoch " +
                                                        std::to_string(epoch) + " (the model diverged; try a lower --lr)");
      // val_loss is what early stopping and the best checkpoint follow (--select-on); with no
      // selected term active, the whole sum.
      row["val_loss"] = any_selected ? selected : val;
    }
    row["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    result.history.push_back(row);
    if (logger) {
      nn::MetricsLogger::Row r;
      r.set("epoch", static_cast<int64_t>(epoch));
      for (const auto& [k, v] : row)
        if (k != "epoch") r.set(k, v);
      logger->log(r);
    }
    const auto decision = stopper.update(row["val_loss"]);
    if (decision.improved) {
      result.best_epoch = epoch;
      result.best_val = row["val_loss"];
      if (!folder.empty()) {
        best_state.epoch = epoch;
        best_state.scalars = {{"val_loss", row["val_loss"]}};
        nn::save_checkpoint(folder + "best.h5", best_state);
      } else {
        snapshot();
      }
    }
    if (epoch % report_every == 0 || epoch == c.epochs || decision.stop || epoch == 1) {
      std::ostringstream detail;
      detail.precision(4);
      for (const auto& t : result.terms) detail << t.substr(0, 5) << " " << row["train_" + t] << "  ";
      detail << "val " << row["val_loss"] << (decision.improved ? " *" : "");
      progress.report(epoch, detail.str());
    }
    if (decision.stop) break;
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!folder.empty()) {
    last_state.epoch = static_cast<int64_t>(result.history.size());
    last_state.scalars = {{"best_epoch", result.best_epoch}, {"best_val_loss", result.best_val}};
    nn::save_checkpoint(folder + "last.h5", last_state);
    nn::load_checkpoint(folder + "best.h5", best_state);
  } else {
    size_t i = 0;
    for (auto& [n, t] : model.named_parameters()) t.copy_(best_copy[i++]);
    for (auto& [n, t] : model.named_buffers()) t.copy_(best_copy[i++]);
  }
  model.eval();
  return result;
}

}  // namespace cg::multitask
