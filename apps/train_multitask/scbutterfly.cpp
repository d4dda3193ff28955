#include "apps/train_multitask/scbutterfly.h"

#include <algorithm>

#include "apps/common/matrix_bridge.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/optim.h"
#include "nn/losses.h"

namespace cg::multitask {
namespace {

constexpr double kSlope = 0.01;  // torch's nn.LeakyReLU(), as scButterfly uses it

// scButterfly's NetBlock: [input dropout] then per layer Linear -> BatchNorm -> LeakyReLU, with
// Dropout between layers (not after the last); plain_last: the last layer is a plain Linear.
std::shared_ptr<nn::Sequential> net_block(const std::vector<int64_t>& widths, double input_dropout, double dropout,
                                          bool plain_last, Generator& init,
                                          const std::shared_ptr<Generator>& dropout_gen) {
  auto seq = std::make_shared<nn::Sequential>();
  if (input_dropout > 0) seq->append(std::make_shared<nn::Dropout>(input_dropout, dropout_gen));
  for (size_t i = 0; i + 1 < widths.size(); ++i) {
    const bool last = i + 2 == widths.size();
    seq->append(std::make_shared<nn::Linear>(widths[i], widths[i + 1], init, nn::Init::XavierUniform));
    if (last && plain_last) break;
    seq->append(std::make_shared<nn::BatchNorm1d>(widths[i + 1]));
    seq->append(std::make_shared<nn::ActivationLayer>(nn::Activation::LeakyReLU, kSlope));
    if (!last && dropout > 0) seq->append(std::make_shared<nn::Dropout>(dropout, dropout_gen));
  }
  return seq;
}

}  // namespace

ScButterflyModel::ScButterflyModel(const ModelSpec& spec, uint64_t seed)
    : TranslationModel("ScButterflyModel", spec), noise_(std::make_shared<Generator>(seed, 11)) {
  Generator init(seed, 5);
  const int64_t h1 = spec.hidden.back();
  for (size_t m = 0; m < spec.inputs.size(); ++m) {
    const std::string n = std::to_string(m);
    std::vector<int64_t> widths = {spec.inputs[m]};
    for (size_t k = 0; k + 1 < spec.hidden.size(); ++k)
      widths.push_back(spec.inputs[m] > spec.hidden[k] ? spec.hidden[k] : h1);
    widths.push_back(h1);
    const double input_dropout = m == 0 ? 0.5 : 0.0;
    const bool drop = spec.dropout > 0 || input_dropout > 0;
    // A pathway encoder reads the activities; the input dropout stays on the features (a
    // denoising of the genes; dropping half of ~50 pathway activities would be another model).
    const bool front = spec.gene_encoder(m).is_pathway();
    std::vector<int64_t> encoder_widths = widths;
    encoder_widths.front() = spec.encoder_inputs(m);
    input_dropouts_.push_back(front && input_dropout > 0
                                  ? register_module("input_dropout" + n, std::make_shared<nn::Dropout>(input_dropout, noise_))
                                  : nullptr);
    encoders_.push_back(register_module("encoder" + n, net_block(encoder_widths, front ? 0.0 : input_dropout,
                                                                 spec.dropout, false, init, drop ? noise_ : nullptr)));
    mu_.push_back(register_module("mu" + n, net_block({h1, spec.latent}, 0, 0, false, init, nullptr)));
    logvar_.push_back(register_module("logvar" + n, net_block({h1, spec.latent}, 0, 0, false, init, nullptr)));
    latent_decoders_.push_back(
        register_module("latent_decoder" + n, net_block({spec.latent, h1}, 0, 0, false, init, nullptr)));
    std::vector<int64_t> dec(widths.rbegin(), widths.rend());
    dec.back() = spec.outputs(m);
    decoders_.push_back(register_module(
        "decoder" + n, net_block(dec, 0, spec.dropout, true, init, spec.dropout > 0 ? noise_ : nullptr)));
  }
  discriminator_ = register_module(
      "discriminator", std::make_shared<nn::Linear>(spec.latent, static_cast<int64_t>(spec.inputs.size()), init,
                                                    nn::Init::XavierUniform));
  add_count_parameters();
  add_pathway_fronts(seed);
}

ScButterflyModel::Latent ScButterflyModel::encode(size_t m, const Tensor& x) {
  const Tensor in = input_dropouts_.at(m) ? input_dropouts_[m]->forward(x) : x;
  const Tensor h = encoders_.at(m)->forward(encoder_input(m, in));
  Latent l{Tensor(), mu_[m]->forward(h), logvar_[m]->forward(h)};
  if (is_training()) {
    const Tensor eps = noise_->normal(l.mu.shape(), l.mu.device(), l.mu.dtype());
    l.z = l.mu + eps * exp(l.logvar * 0.5);
  } else {
    l.z = l.mu;
  }
  return l;
}

Tensor ScButterflyModel::decode(size_t target, const Tensor& z) {
  return decoders_.at(target)->forward(latent_decoders_.at(target)->forward(z));
}

Tensor ScButterflyModel::fuse(const std::vector<Tensor>& z) {
  Tensor s = z[0];
  for (size_t i = 1; i < z.size(); ++i) s = s + z[i];
  return s * (1.0 / static_cast<double>(z.size()));
}

Tensor ScButterflyModel::translate(size_t source, size_t target, const Tensor& x, const Tensor&) {
  return output_prediction(target, decode(target, encode(source, x).z));
}

Tensor ScButterflyModel::discriminate(const Tensor& z) { return discriminator_->forward(z); }

std::vector<Tensor> ScButterflyModel::generator_parameters() const {
  std::vector<Tensor> p;
  const std::vector<Tensor> disc = discriminator_parameters();
  for (const auto& t : parameters())
    if (std::none_of(disc.begin(), disc.end(), [&](const Tensor& d) { return d.impl() == t.impl(); })) p.push_back(t);
  return p;
}

std::vector<Tensor> ScButterflyModel::discriminator_parameters() const { return discriminator_->parameters(); }

std::vector<Tensor> ScButterflyModel::output_biases(size_t target) {
  const auto& dec = decoders_.at(target);
  return {dynamic_cast<nn::Linear&>(*dec->at(dec->size() - 1)).bias};
}

double ScButterflyModel::kl_weight() const { return 20.0 / static_cast<double>(spec_.inputs[0]); }

namespace {

// The cross-translation weight of target modality m (scButterfly's loss_weight [1, 2, 1]).
double target_weight(size_t m) { return m == 0 ? 1.0 : 2.0; }

Tensor labels_of(size_t m, int64_t n, Device device) {
  return Tensor::from_indices(std::vector<int32_t>(static_cast<size_t>(n), static_cast<int32_t>(m)), device);
}

class ScButterflyTraining {
 public:
  ScButterflyTraining(ScButterflyModel& model, const Config& c, const TrainData& d, const Split& split, Device device)
      : model_(model), c_(c), d_(d), split_(split), device_(device), feeder_(d, device) {
    for (size_t m = 0; m < model.modalities(); ++m)
      model.start_outputs_at_mean(m, apps::take_rows(d.X[m], split.train), apps::take_rows(d.counts[m], split.train));
    model.to(device);
    AdamOptions ao;
    ao.lr = c.lr;
    pretrain_opt_ = std::make_unique<Adam>(model.generator_parameters(), ao);
    cross_opt_ = std::make_unique<Adam>(model.generator_parameters(), ao);
    AdamOptions dao = ao;
    dao.lr = 5 * c.lr;
    disc_opt_ = std::make_unique<Adam>(model.discriminator_parameters(), dao);
    validation_ = make_batch(d, split.validation, device);
  }

  nn::FitResult run(const std::string& folder, const std::string& label) {
    const size_t M = model_.modalities();
    // 1. each modality as its own VAE
    nn::Phase pre;
    pre.name = "pretrain";
    pre.optimizer = pretrain_opt_.get();
    pre.zero_grad_module = &model_;
    pre.forward = [this](const nn::Rows& rows) { return terms(pretrain_losses(feeder_.batch(rows))); };
    nn::FitOptions po = options(c_.pretrain_epochs, label + " pretrain", {"reconstruction", "kl"});
    if (!folder.empty()) po.history_csv = folder + "pretrain_history.csv";
    nn::FitState state{&model_, {}, {{"noise", &model_.noise_generator()}}};
    std::vector<nn::Phase*> pre_phases = {&pre};
    nn::fit(state, [&](int) { return pre_phases; }, split_.train, hooks(true), po);
    model_.train();

    // 2. cross translation with the latent discriminator
    nn::Phase cross;
    cross.name = "translation";
    cross.optimizer = cross_opt_.get();
    cross.zero_grad_module = &model_;
    cross.forward = [this](const nn::Rows& rows) {
      batch_ = feeder_.batch(rows);
      return terms(cross_losses(batch_, &latents_));
    };
    cross.after_step = [this, M](const nn::Rows&) {
      std::vector<Tensor> l;
      for (size_t m = 0; m < M; ++m)
        l.push_back(nn::cross_entropy(model_.discriminate(latents_[m].detach()), labels_of(m, batch_.n, device_)));
      const Tensor loss = mean_of(l);
      disc_opt_->zero_grad();
      loss.backward();
      disc_opt_->step();
      return nn::NamedLosses{{"discriminator", loss}};
    };
    nn::FitOptions co =
        options(c_.epochs, label, {"reconstruction", "translation", "kl", "generator", "discriminator"});
    co.write_into(folder);
    state.extra_optimizers.push_back({"discriminator", disc_opt_.get()});
    std::vector<nn::Phase*> cross_phases = {&cross};
    return nn::fit(state, [&](int) { return cross_phases; }, split_.train, hooks(false), co);
  }

 private:
  nn::FitOptions options(int epochs, const std::string& label, std::vector<std::string> terms) const {
    nn::FitOptions o;
    o.epochs = epochs;
    o.patience = c_.patience;
    o.batch_size = c_.batch_size;
    o.seed = c_.seed;
    o.label = label;
    o.terms = std::move(terms);
    o.profile_epoch = c_.profile ? 2 : 0;
    return o;
  }

  // Every term is logged; all but the discriminator's enter the generator's gradient.
  static nn::StepTerms terms(const std::map<std::string, Tensor>& losses) {
    nn::StepTerms t;
    for (const auto& [name, loss] : losses) {
      t.logged.push_back({name, loss});
      t.weighted.push_back({name, loss});
    }
    return t;
  }

  Tensor kl(const ScButterflyModel::Latent& l) const {
    return nn::gaussian_kl(l.mu, l.logvar, 1.0, nn::KlUnits::Mean) * (model_.kl_weight() * kl_factor_);
  }

  // Weighted terms of the pretraining step.
  std::map<std::string, Tensor> pretrain_losses(const BatchTensors& b) {
    std::vector<Tensor> rec, kls;
    for (size_t m = 0; m < model_.modalities(); ++m) {
      const auto l = model_.encode(m, b.x[m]);
      rec.push_back(model_.output_loss(m, model_.decode(m, l.z), b.x[m], b.counts[m], b.library[m]));
      kls.push_back(kl(l));
    }
    return {{"reconstruction", sum_of(rec)}, {"kl", sum_of(kls)}};
  }

  // Weighted terms of the cross-translation step; latents receives each modality's z.
  std::map<std::string, Tensor> cross_losses(const BatchTensors& b, std::vector<Tensor>* latents) {
    const size_t M = model_.modalities();
    std::vector<ScButterflyModel::Latent> l;
    for (size_t m = 0; m < M; ++m) l.push_back(model_.encode(m, b.x[m]));
    std::vector<Tensor> rec, tr, kls, gen;
    for (size_t i = 0; i < M; ++i)
      for (size_t j = 0; j < M; ++j) {
        const Tensor loss =
            model_.output_loss(i, model_.decode(i, l[j].z), b.x[i], b.counts[i], b.library[i]) * target_weight(i);
        (i == j ? rec : tr).push_back(loss);
      }
    std::map<std::string, Tensor> out = {{"reconstruction", sum_of(rec)}, {"translation", sum_of(tr)}};
    if (!latents) return out;
    latents->clear();
    for (size_t m = 0; m < M; ++m) {
      kls.push_back(kl(l[m]));
      gen.push_back(nn::cross_entropy(model_.discriminate(l[m].z), labels_of((m + 1) % M, b.n, device_)));
      latents->push_back(l[m].z);
    }
    out["kl"] = sum_of(kls);
    out["generator"] = mean_of(gen);
    return out;
  }

  static Tensor sum_of(const std::vector<Tensor>& v) {
    Tensor s = v[0];
    for (size_t i = 1; i < v.size(); ++i) s = s + v[i];
    return s;
  }

  nn::FitHooks hooks(bool pretraining) {
    nn::FitHooks h;
    h.begin_epoch = [this](int epoch) {
      kl_factor_ = c_.kl_warmup > 0 ? std::min(1.0, static_cast<double>(epoch) / c_.kl_warmup) : 1.0;
    };
    h.validate = [this, pretraining](int, nn::EpochRow& row) {
      NoGradGuard no_grad;
      model_.eval();
      double v = 0;
      if (pretraining) {
        v = pretrain_losses(validation_).at("reconstruction").item();
        row["val_reconstruction"] = v;
      } else {
        const auto t = cross_losses(validation_, nullptr);
        row["val_reconstruction"] = t.at("reconstruction").item();
        row["val_translation"] = t.at("translation").item();
        v = row["val_reconstruction"] + row["val_translation"];
      }
      model_.train();
      row["val_loss"] = v;
    };
    return h;
  }

  ScButterflyModel& model_;
  const Config& c_;
  const TrainData& d_;
  const Split& split_;
  Device device_;
  BatchFeeder feeder_;  // the training steps' batches (resident on a GPU)
  std::unique_ptr<Adam> pretrain_opt_, cross_opt_, disc_opt_;
  BatchTensors validation_, batch_;
  std::vector<Tensor> latents_;
  double kl_factor_ = 1.0;
};

}  // namespace

nn::FitResult train_scbutterfly(ScButterflyModel& model, const Config& c, const TrainData& d, const Split& split,
                                Device device, const std::string& folder, const std::string& label) {
  return ScButterflyTraining(model, c, d, split, device).run(folder, label);
}

}  // namespace cg::multitask
