#include "apps/train_multitask/trainer.h"

#include <cmath>
#include <filesystem>
#include <memory>

#include "apps/train_multitask/loss_terms.h"
#include "apps/train_multitask/schedules.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/optim.h"
#include "nn/fit.h"
#include "nn/loss_weighting.h"
#include "nn/losses.h"

namespace cg::multitask {

namespace {

std::vector<Tensor> concat_params(std::initializer_list<std::vector<Tensor>> lists) {
  std::vector<Tensor> out;
  for (const auto& l : lists) out.insert(out.end(), l.begin(), l.end());
  return out;
}

// One run's training: the weighting of the translation group, an optimizer per parameter group
// as the schedule says, the phases and hooks that nn::fit runs.
class MultitaskTraining {
 public:
  MultitaskTraining(UnitedNetModel& model, const Config& c, const TrainData& d, const Split& split, Device device)
      : model_(model),
        c_(c),
        d_(d),
        split_(split),
        device_(device),
        feeder_(d, device),
        a_(active_terms(c, !d.labels.empty())),
        sched_(schedule(c.schedule)),
        classify_(a_.has("classification")),
        step_(model, c, d, a_) {
    model.to(device);
    group_ = a_.translation_group();
    has_translation_ = !group_.empty();
    if (sched_.joint && classify_) group_.push_back("classification");
    set_class_weights();
    make_weighting();
    make_optimizers();
    make_phases();
  }

  TrainResult run(const std::string& folder, const std::string& label) {
    nn::FitOptions o;
    o.epochs = c_.epochs;
    o.patience = c_.patience;
    o.batch_size = c_.batch_size;
    o.seed = c_.seed;
    o.label = label;
    o.terms = group_;
    o.profile_epoch = c_.profile ? 2 : 0;
    if (!sched_.joint && classify_) o.terms.push_back("classification");
    if (opt_disc_) o.terms.push_back("discriminator");
    o.write_into(folder);
    // Checkpointing: the best weights and the resume state live outside the staging folder
    // (which an interrupted run loses); the best weights are copied into the run at the end.
    std::string durable;
    if (!c_.checkpoint_folder.empty()) {
      durable = c_.checkpoint_folder + "/" + split_.name + "/";
      std::filesystem::create_directories(durable);
      o.resume_into(durable, c_.checkpoint_every, !c_.resume.empty());
    }
    nn::FitState state{
        &model_, {}, {{"noise", &model_.noise_generator()}, {"contrastive", &step_.contrastive_generator()}}};
    if (opt_disc_) state.extra_optimizers.push_back({"discriminator", opt_disc_.get()});
    TrainResult result = nn::fit(
        state, [&](int) { return phases_; }, split_.train, hooks(o.terms), o);
    if (!durable.empty() && !folder.empty())
      std::filesystem::copy_file(durable + "best.h5", folder + "best.h5",
                                 std::filesystem::copy_options::overwrite_existing);
    return result;
  }

 private:
  // Balanced class weights from the training cells only.
  void set_class_weights() {
    if (!classify_) return;
    std::vector<int32_t> tl;
    for (int64_t r : split_.train) tl.push_back(d_.labels[static_cast<size_t>(r)]);
    step_.set_class_weights(nn::balanced_class_weights(Tensor::from_indices(tl), d_.classes).to(device_));
  }

  // Terms enter the strategy already multiplied by their --weight-* value, so "fixed" is
  // exactly UnitedNet's weighted sum and the adaptive strategies act on top of the user's scale.
  void make_weighting() {
    const nn::LossWeightingEntry& strategy = nn::loss_weighting(c_.weighting);
    nn::LossWeightingOptions wopt;
    wopt.device = device_;
    wopt.seed = c_.seed;
    wopt.regression_tasks = {"reconstruction", "translation"};
    if (!group_.empty()) weighting_ = strategy.make(group_, wopt);
    shared_ = strategy.needs == nn::WeightingNeeds::LastSharedLayer ? model_.last_shared_parameters()
                                                                    : model_.encoder_parameters();
  }

  void make_optimizers() {
    AdamOptions ao;
    ao.lr = c_.lr;
    const std::vector<Tensor> wparams = weighting_ ? weighting_->parameters() : std::vector<Tensor>{};
    if (sched_.joint) {
      opt_joint_ = std::make_unique<Adam>(
          concat_params({model_.encoder_parameters(), model_.decoder_parameters(), model_.head_parameters(), wparams}),
          ao);
    } else {
      if (has_translation_) {
        // Without a classifier the projector (used by the contrastive term) would never be trained
        // otherwise, so it joins the translation group then.
        std::vector<Tensor> p = concat_params({model_.encoder_parameters(), model_.decoder_parameters(), wparams});
        if (!classify_ && a_.has("contrastive")) p = concat_params({p, model_.head_parameters()});
        opt_translation_ = std::make_unique<Adam>(p, ao);
      }
      if (classify_)
        opt_classification_ =
            std::make_unique<Adam>(concat_params({model_.encoder_parameters(), model_.head_parameters()}), ao);
    }
    if (a_.has("discriminator")) opt_disc_ = std::make_unique<Adam>(model_.discriminator_parameters(), ao);
  }

  // The forward of one step: every term logged unweighted; the group's terms scaled by their
  // weights for the strategy; the classifier on its own unless the schedule is joint.
  nn::StepTerms forward(const nn::Rows& rows, bool with_translation, bool with_classification) {
    batch_ = feeder_.batch(rows);
    Terms terms = step_.losses(batch_, with_translation, with_classification, kl_factor_,
                               opt_disc_ && with_translation ? &reconstructions_ : nullptr);
    nn::StepTerms t;
    for (const auto& [name, loss] : terms.t) {
      t.logged.push_back({name, loss});
      if (name == "classification" && !sched_.joint) t.separate.push_back({name, loss * weight_of(c_, name)});
      else t.weighted.push_back({name, loss * weight_of(c_, name)});
    }
    return t;
  }

  // After the generator step, so the discriminators see this step's reconstructions; own
  // backward, own optimizer.
  nn::NamedLosses discriminator_step() {
    const Tensor loss = step_.discriminator_loss(batch_, reconstructions_);
    opt_disc_->zero_grad();
    (loss * c_.weight_discriminator).backward();
    opt_disc_->step();
    return {{"discriminator", loss}};
  }

  nn::Phase phase(const char* name, Adam* optimizer, bool with_translation, bool with_classification) {
    nn::Phase p;
    p.name = name;
    p.optimizer = optimizer;
    p.zero_grad_module = &model_;
    p.forward = [this, with_translation, with_classification](const nn::Rows& rows) {
      return forward(rows, with_translation, with_classification);
    };
    if (with_translation) {
      p.weighting = weighting_.get();
      p.shared_parameters = shared_;
      if (opt_disc_) p.after_step = [this](const nn::Rows&) { return discriminator_step(); };
    }
    return p;
  }

  void make_phases() {
    translation_ = phase("translation", opt_translation_.get(), true, false);
    classification_ = phase("classification", opt_classification_.get(), false, true);
    joint_ = phase("joint", opt_joint_.get(), has_translation_, classify_);
    joint_.weighting = weighting_.get();
    joint_.shared_parameters = shared_;
    if (sched_.joint) phases_.push_back(&joint_);
    for (SchedulePhase p : sched_.order) {
      if (p == SchedulePhase::Translation && opt_translation_) phases_.push_back(&translation_);
      if (p == SchedulePhase::Classification && opt_classification_) phases_.push_back(&classification_);
    }
  }

  nn::FitHooks hooks(const std::vector<std::string>& terms) {
    nn::FitHooks h;
    h.begin_epoch = [this](int epoch) {
      kl_factor_ = c_.kl_warmup > 0 ? std::min(1.0, static_cast<double>(epoch) / c_.kl_warmup) : 1.0;
    };
    h.end_epoch = [this, terms](int, nn::EpochRow& row) {
      std::map<std::string, double> epoch_means;
      for (const auto& t : terms)
        if (t != "discriminator") epoch_means[t] = row.at("train_" + t) * weight_of(c_, t);
      if (weighting_) {
        const auto w = weighting_->weights();
        for (const auto& t : group_) row["weight_" + t] = w.at(t) * weight_of(c_, t);
        weighting_->end_epoch(epoch_means);
      }
      if (!sched_.joint && classify_) row["weight_classification"] = c_.weight_classification;
    };
    h.validate = [this](int, nn::EpochRow& row) {
      validation_losses(step_, model_, make_batch(d_, split_.validation, device_), c_, has_translation_, classify_,
                        row);
    };
    return h;
  }

  UnitedNetModel& model_;
  const Config& c_;
  const TrainData& d_;
  const Split& split_;
  Device device_;
  BatchFeeder feeder_;  // the training steps' batches (resident on a GPU)
  ActiveTerms a_;
  const Schedule& sched_;
  bool classify_, has_translation_ = false;
  Step step_;
  std::vector<std::string> group_;
  std::unique_ptr<nn::LossWeighting> weighting_;
  std::vector<Tensor> shared_;
  std::unique_ptr<Adam> opt_translation_, opt_classification_, opt_joint_, opt_disc_;
  nn::Phase translation_, classification_, joint_;
  std::vector<nn::Phase*> phases_;
  double kl_factor_ = 1.0;
  BatchTensors batch_;                   // of the current step, for the discriminators' update
  std::vector<Tensor> reconstructions_;  // of the current step, for the discriminators' update
};

}  // namespace

TrainResult train_model(UnitedNetModel& model, const Config& c, const TrainData& d, const Split& split, Device device,
                        const std::string& folder, const std::string& label) {
  return MultitaskTraining(model, c, d, split, device).run(folder, label);
}

}  // namespace cg::multitask
