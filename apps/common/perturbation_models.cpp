#include "apps/common/perturbation_models.h"

#include <functional>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "nn/losses.h"

namespace cg::perturb {
namespace {

// Soft control/perturbed labels for the adversary: condition column 0 is "control".
Tensor soft_perturbed_labels(const Tensor& condition, bool flipped) {
  Tensor is_control = slice(condition, 1, 0, 1);  // [N, 1]
  // perturbed -> 0.9, control -> 0.1 (flipped: the reverse, what the encoder aims for)
  Tensor target = add_scalar(mul_scalar(is_control, -0.8), 0.9);
  return flipped ? add_scalar(mul_scalar(target, -1.0), 1.0) : target;
}

// Mean binary cross-entropy on logits, in the stable form softplus(x) - x t.
Tensor bce_logits(const Tensor& logits, const Tensor& target) { return mean(softplus(logits) - logits * target); }

// The model's perturbed cells of one value predicted from the batch's controls (both given as
// positions in the batch; `observed` names the value's cells, for models that need them).
using PredictPerturbed = std::function<Tensor(const Tensor& controls, const Tensor& observed)>;

// The mean over the batch's perturbed values of MMD^2_u(predicted, observed), a [1] tensor;
// a constant 0 when no value has two cells beside two controls.
Tensor mean_discrepancy(const DiscrepancyBatch& d, const Tensor& x, const PredictPerturbed& predict) {
  Tensor total;
  int values = 0;
  const Tensor controls = Tensor::from_indices(d.control, x.device());
  for (const auto& [column, rows] : d.perturbed) {
    if (d.control.size() < 2 || rows.size() < 2) continue;
    const Tensor observed = Tensor::from_indices(rows, x.device());
    const Tensor m = nn::mmd_rbf(predict(controls, observed), gather_rows(x, observed), d.bandwidths);
    total = total.defined() ? total + m : m;
    ++values;
  }
  if (values == 0) return Tensor::zeros({1}, x.dtype(), x.device());
  return total * (1.0 / values);
}

// f() with `m` in eval mode, the mode restored after. The MMD term decodes its predictions so:
// as the app predicts, batch norm on its running statistics (a batch of predicted cells only
// would otherwise normalise itself, unlike any batch the prediction will meet, and move those
// statistics), and no dropout.
template <class F> Tensor in_eval_mode(nn::Module& m, F f) {
  struct Restore {
    nn::Module& m;
    bool was;
    ~Restore() { m.train(was); }
  } restore{m, m.is_training()};
  m.eval();
  return f();
}

// Adds weight * mmd to "loss" and logs "mmd".
void add_discrepancy(LossTerms& terms, const DiscrepancyBatch& d, const Tensor& mmd) {
  terms.front().second = terms.front().second + mmd * d.weight;
  terms.push_back({"mmd", mmd});
}

}  // namespace

// ---- scGen -------------------------------------------------------------------------------------
ScGenVAE::ScGenVAE(int64_t genes, const std::vector<int64_t>& hidden, int64_t latent, double dropout, double alpha,
                   uint64_t seed, const GeneEncoderSpec& gene_encoder)
    : PerturbModel("ScGenVAE"), gen_(std::make_shared<Generator>(seed, 1)), alpha_(alpha) {
  Generator init(seed, 2);
  // The front draws its initial weights from its own stream, so the Mlp network's draws (and
  // its weights, bit for bit) are the same as before fronts existed.
  Generator front_init(seed, 3);
  if (gene_encoder.kind != GeneEncoderSpec::Kind::Mlp)
    front_ = register_module("pathways", std::make_shared<PathwayFront>(genes, gene_encoder, front_init));
  nn::MLPConfig block;
  block.activation = nn::Activation::LeakyReLU;
  block.leaky_slope = 0.2;
  block.batch_norm = true;
  block.dropout = dropout;
  block.dropout_after_activation = true;
  block.init = nn::Init::XavierUniform;
  nn::MLPConfig enc = block;
  enc.widths = {front_ ? front_->pathways() : genes};
  enc.widths.insert(enc.widths.end(), hidden.begin(), hidden.end());
  encoder_ = register_module("encoder", std::make_shared<nn::GaussianEncoder>(enc, latent, init, gen_));
  nn::MLPConfig dec = block;
  dec.widths = {latent};
  dec.widths.insert(dec.widths.end(), hidden.rbegin(), hidden.rend());
  dec.widths.push_back(genes);
  decoder_ = register_module("decoder", nn::make_mlp(dec, init, gen_));
}

nn::GaussianEncoder::Output ScGenVAE::encode(const Tensor& x) {
  return encoder_->forward(front_ ? front_->forward(x) : x);
}

LossTerms ScGenVAE::losses(const Tensor& x, const Tensor&, const DiscrepancyBatch* discrepancy) {
  const auto e = encode(x);
  const Tensor x_hat = decoder_->forward(e.z);
  const double n = static_cast<double>(x.dim(0));
  const Tensor rec = sum(square(x_hat - x)) * (0.5 / n);
  const Tensor kl =
      sum(exp(e.logvar) + square(e.mu) - e.logvar - 1.0) * (0.5 / n);  // KL summed over latents, mean over cells
  const Tensor total = rec + kl * (0.5 * alpha_);
  LossTerms terms = {{"loss", total}, {"reconstruction", rec}, {"kl", kl}};
  if (discrepancy && discrepancy->weight > 0) {
    // scGen's prediction within the batch: latent arithmetic on the posterior means, the batch's
    // own delta = mean z(perturbed) - mean z(control), decoded from z(control) + delta (the
    // direct decode, in eval mode; the shift is differentiated too, so the term also shapes the
    // latent that fit_scgen later averages per type).
    const Tensor mmd = mean_discrepancy(*discrepancy, x, [&](const Tensor& controls, const Tensor& observed) {
      const Tensor zc = gather_rows(e.mu, controls);
      const Tensor delta = mean_cols(gather_rows(e.mu, observed)) - mean_cols(zc);  // [1, latent]
      return in_eval_mode(*decoder_, [&] { return decoder_->forward(zc + delta); });
    });
    add_discrepancy(terms, *discrepancy, mmd);
  }
  return terms;
}

Tensor ScGenVAE::encode_mean(const Tensor& x) { return encode(x).mu; }
Tensor ScGenVAE::decode(const Tensor& z) { return decoder_->forward(z); }

// ---- the MTAe family ---------------------------------------------------------------------------
MultiTaskAE::MultiTaskAE(const MtaeSpec& spec, uint64_t seed)
    : PerturbModel("MultiTaskAE"), spec_(spec), gen_(std::make_shared<Generator>(seed, 1)) {
  Generator init(seed, 2);
  Generator front_init(seed, 3);  // its own stream: the Mlp network's weights stay as they were
  if (spec.gene_encoder.kind != GeneEncoderSpec::Kind::Mlp)
    front_ = register_module("pathways", std::make_shared<PathwayFront>(spec.genes, spec.gene_encoder, front_init));
  const auto leaky = nn::Activation::LeakyReLU;
  const auto out_act = spec.activated_outputs ? leaky : nn::Activation::None;
  nn::MLPConfig enc;
  enc.widths = {front_ ? front_->pathways() : spec.genes};
  enc.widths.insert(enc.widths.end(), spec.hidden.begin(), spec.hidden.end());
  enc.widths.push_back(spec.latent);
  enc.activation = leaky;
  enc.output_activation = out_act;
  enc.leaky_slope = spec.slope;
  enc.batch_norm = true;
  enc.dropout = spec.dropout;
  enc.dropout_after_activation = true;
  enc.input_dropout = spec.input_dropout;
  enc.init = nn::Init::XavierUniform;
  encoder_ = register_module("encoder", nn::make_mlp(enc, init, gen_));
  if (spec.variational) {
    mu_ = register_module("mu", std::make_shared<nn::Linear>(spec.latent, spec.latent, init, nn::Init::XavierUniform));
    logvar_ =
        register_module("logvar", std::make_shared<nn::Linear>(spec.latent, spec.latent, init, nn::Init::XavierUniform));
  }
  int64_t in = spec.latent;
  for (size_t i = spec.hidden.size(); i-- > 0;) {
    const int64_t out = spec.hidden[i];
    const std::string k = std::to_string(dec_layers_.size());
    dec_layers_.push_back(register_module("decoder_" + k, std::make_shared<nn::Linear>(in, out, init, nn::Init::XavierUniform)));
    dec_norms_.push_back(register_module("decoder_bn_" + k, std::make_shared<nn::BatchNorm1d>(out)));
    films_.push_back(register_module("film_" + k, std::make_shared<nn::FiLM>(spec.conditions, out, init, out_act, spec.slope)));
    if (spec.dropout > 0)  // registered, so that eval() turns it off
      dec_dropouts_.push_back(
          register_module("decoder_dropout_" + k, std::make_shared<nn::Dropout>(spec.dropout, gen_)));
    in = out;
  }
  dec_layers_.push_back(
      register_module("decoder_out", std::make_shared<nn::Linear>(in, spec.genes, init, nn::Init::XavierUniform)));
  if (spec.adversarial > 0) {
    nn::MLPConfig disc;
    disc.widths = {spec.latent, 32, 1};
    disc.activation = leaky;
    disc.leaky_slope = spec.slope;
    disc.init = nn::Init::XavierUniform;
    discriminator_ = register_module("discriminator", nn::make_mlp(disc, init, gen_));
  }
}

std::vector<std::pair<std::string, Optimizer*>> MultiTaskAE::internal_optimizers() {
  if (!discriminator_) return {};
  if (!disc_optimizer_) {
    AdamOptions o;
    o.lr = spec_.disc_lr;
    disc_optimizer_ = std::make_unique<Adam>(discriminator_->parameters(), o);
  }
  return {{"discriminator", disc_optimizer_.get()}};
}

MultiTaskAE::Encoded MultiTaskAE::encode_sampled(const Tensor& x) {
  const Tensor h = encoder_->forward(front_ ? front_->forward(x) : x);
  if (!spec_.variational) return {h, h, Tensor()};
  const nn::Activation act = spec_.activated_outputs ? nn::Activation::LeakyReLU : nn::Activation::None;
  const Tensor mu = nn::apply_activation(act, mu_->forward(h), spec_.slope);
  const Tensor logvar = nn::apply_activation(act, logvar_->forward(h), spec_.slope);
  if (!is_training()) return {mu, mu, logvar};
  const Tensor eps = gen_->normal(mu.shape(), mu.device(), mu.dtype());
  return {mu + eps * exp(logvar * 0.5), mu, logvar};
}

Tensor MultiTaskAE::encode(const Tensor& x) { return encode_sampled(x).mu; }

Tensor MultiTaskAE::decode(const Tensor& z, const Tensor& condition) {
  const nn::Activation out_act = spec_.activated_outputs ? nn::Activation::LeakyReLU : nn::Activation::None;
  Tensor h = z;
  for (size_t i = 0; i < films_.size(); ++i) {
    h = films_[i]->forward(dec_norms_[i]->forward(dec_layers_[i]->forward(h)), condition);
    h = leaky_relu(h, spec_.slope);
    if (!dec_dropouts_.empty()) h = dec_dropouts_[i]->forward(h);
  }
  return nn::apply_activation(out_act, dec_layers_.back()->forward(h), spec_.slope);
}

Tensor MultiTaskAE::discriminator_logits(const Tensor& z) { return discriminator_->forward(z); }

LossTerms MultiTaskAE::losses(const Tensor& x, const Tensor& condition, const DiscrepancyBatch* discrepancy) {
  const Encoded e = encode_sampled(x);
  const Tensor rec = mean(square(decode(e.z, condition) - x));
  LossTerms terms = {{"loss", rec}, {"reconstruction", rec}};
  Tensor total = rec;
  if (spec_.variational) {
    // KL summed over latents, mean over cells
    const Tensor kl = sum(exp(e.logvar) + square(e.mu) - e.logvar - 1.0) * (0.5 / static_cast<double>(x.dim(0)));
    total = total + kl * spec_.alpha;
    terms.push_back({"kl", kl});
  }
  if (spec_.adversarial > 0) {
    const Tensor fool = bce_logits(discriminator_logits(e.z), soft_perturbed_labels(condition, true));
    total = total + fool * spec_.adversarial;
    terms.push_back({"adversarial", fool});
  }
  terms.front().second = total;
  if (discrepancy && discrepancy->weight > 0) {
    // MTAe's prediction within the batch: the controls' latent (posterior mean for MTVae, as
    // apply_mtae uses) decoded, in eval mode, under the perturbed value's condition, taken from
    // the value's first observed cell (the one-hot row, repeated), so it stays on the device.
    const Tensor mmd = mean_discrepancy(*discrepancy, x, [&](const Tensor& controls, const Tensor& observed) {
      const std::vector<int32_t> first(static_cast<size_t>(controls.dim(0)), 0);
      const Tensor target = gather_rows(gather_rows(condition, observed), Tensor::from_indices(first, x.device()));
      const Tensor zc = gather_rows(e.mu, controls);
      return in_eval_mode(*this, [&] { return decode(zc, target); });  // the encoder has run already
    });
    add_discrepancy(terms, *discrepancy, mmd);
  }
  return terms;
}

LossTerms MultiTaskAE::adversary_step(const Tensor& x, const Tensor& condition) {
  if (!discriminator_) return {};
  internal_optimizers();  // makes the optimizer on the parameters' device
  Tensor z;
  {
    NoGradGuard no_grad;
    z = encode_sampled(x).z;
  }
  disc_optimizer_->zero_grad();
  const Tensor d_loss = bce_logits(discriminator_logits(z), soft_perturbed_labels(condition, false));
  d_loss.backward();
  disc_optimizer_->step();
  return {{"discriminator", d_loss.detach()}};
}

std::vector<Tensor> MultiTaskAE::main_parameters() const {
  std::vector<Tensor> out;
  for (const auto& [name, t] : named_parameters())
    if (t.requires_grad() && name.rfind("discriminator.", 0) != 0) out.push_back(t);
  return out;
}

}  // namespace cg::perturb
