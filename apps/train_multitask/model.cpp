#include "apps/train_multitask/model.h"

#include "autograd/error.h"
#include "autograd/ops.h"

#include <algorithm>
#include <cmath>

namespace cg::multitask {
namespace {
void append(std::vector<Tensor>& to, const std::vector<Tensor>& from) { to.insert(to.end(), from.begin(), from.end()); }
}  // namespace

const LikelihoodInfo& ModelSpec::output(size_t m) const {
  if (m < likelihood.size() && !likelihood[m].empty()) return multitask::likelihood(likelihood[m]);
  return multitask::likelihood(bce.at(m) ? "bce" : "mse");
}

const apps::GeneEncoderSpec& ModelSpec::gene_encoder(size_t m) const {
  static const apps::GeneEncoderSpec mlp;
  return m < gene_encoders.size() ? gene_encoders[m] : mlp;
}

int64_t ModelSpec::encoder_inputs(size_t m) const {
  const apps::GeneEncoderSpec& g = gene_encoder(m);
  return g.is_pathway() ? static_cast<int64_t>(g.members.size()) : inputs.at(m);
}

TranslationModel::TranslationModel(const std::string& type, const ModelSpec& spec)
    : nn::Module(type), spec_(spec) {}

Tensor TranslationModel::encode_one(size_t, const Tensor&) {
  throw Error("the " + spec_.model + " model has no per-modality latent");
}
Tensor TranslationModel::fuse(const std::vector<Tensor>&) {
  throw Error("the " + spec_.model + " model has no per-modality latent");
}
Tensor TranslationModel::classify_fused(const Tensor&) {
  throw Error("the " + spec_.model + " model has no classifier");
}

void TranslationModel::add_count_parameters() {
  counts_.assign(modalities(), nullptr);
  for (size_t m = 0; m < modalities(); ++m)
    if (spec_.output(m).counts)
      counts_[m] = register_module("counts" + std::to_string(m),
                                   std::make_shared<CountParameters>(
                                       spec_.inputs[m], m < spec_.library.size() ? spec_.library[m] : 1.0));
}

void TranslationModel::add_pathway_fronts(uint64_t seed) {
  fronts_.assign(modalities(), nullptr);
  Generator init(seed, 13);
  for (size_t m = 0; m < modalities(); ++m)
    if (spec_.gene_encoder(m).is_pathway())
      fronts_[m] = register_module("pathways" + std::to_string(m),
                                   std::make_shared<apps::PathwayFront>(spec_.inputs[m], spec_.gene_encoder(m), init));
}

Tensor TranslationModel::encoder_input(size_t m, const Tensor& x) {
  return has_pathways(m) ? fronts_[m]->forward(x) : x;
}

Tensor TranslationModel::pathway_activities(size_t m, const Tensor& x) {
  if (!has_pathways(m)) throw Error("pathway_activities: modality " + std::to_string(m) + " has no pathway encoder");
  return fronts_[m]->forward(x);
}

std::vector<Tensor> TranslationModel::pathway_parameters() const {
  std::vector<Tensor> p;
  for (const auto& f : fronts_)
    if (f) append(p, f->parameters());
  return p;
}

Tensor TranslationModel::output_loss(size_t m, const Tensor& out, const Tensor& x, const Tensor& counts,
                                     const Tensor& library) {
  return multitask::output_loss(spec_.output(m), out, x, counts, library, counts_.empty() ? nullptr : counts_[m].get());
}

Tensor TranslationModel::output_prediction(size_t m, const Tensor& out) {
  return multitask::output_prediction(spec_.output(m), out, counts_.empty() ? nullptr : counts_[m].get());
}

void TranslationModel::start_outputs_at_mean(size_t m, const omics::DenseMatrix& x, const omics::DenseMatrix& counts) {
  const LikelihoodInfo& l = spec_.output(m);
  std::vector<float> bias(static_cast<size_t>(spec_.outputs(m)), 0.0f);
  const int64_t g = spec_.inputs[m];
  if (l.counts) {
    const Eigen::RowVectorXd total = counts.cast<double>().colwise().sum();
    const double all = std::max(total.sum(), 1.0);
    for (int64_t j = 0; j < g; ++j) bias[j] = static_cast<float>(std::log((total[j] + 0.5) / all));
  } else {
    const Eigen::RowVectorXd mean = x.cast<double>().colwise().mean();
    for (int64_t j = 0; j < g; ++j) {
      const double p = std::min(std::max(mean[j], 1e-3), 1 - 1e-3);
      bias[j] = static_cast<float>(l.kind == OutputKind::Bce ? std::log(p / (1 - p)) : mean[j]);
    }
  }
  for (Tensor& b : output_biases(m)) b.copy_(Tensor::from_vector(bias, b.shape()));
}

ConditionedDecoder::ConditionedDecoder(const std::vector<int64_t>& widths, int64_t conditions, Generator& gen)
    : nn::Module("ConditionedDecoder") {
  for (size_t i = 0; i + 1 < widths.size(); ++i) {
    const std::string n = std::to_string(i);
    linears_.push_back(register_module(
        "linear" + n, std::make_shared<nn::Linear>(widths[i], widths[i + 1], gen, nn::Init::KaimingNormal)));
    if (i + 2 < widths.size()) {
      norms_.push_back(register_module("norm" + n, std::make_shared<nn::BatchNorm1d>(widths[i + 1])));
      if (conditions > 0)
        films_.push_back(register_module("film" + n, std::make_shared<nn::FiLM>(conditions, widths[i + 1], gen)));
    }
  }
}

Tensor ConditionedDecoder::forward(const Tensor& z, const Tensor& condition) {
  Tensor h = z;
  for (size_t i = 0; i < linears_.size(); ++i) {
    h = linears_[i]->forward(h);
    if (i + 1 == linears_.size()) break;
    h = norms_[i]->forward(h);
    if (!films_.empty()) h = films_[i]->forward(h, condition);
    h = relu(h);
  }
  return h;
}

UnitedNetModel::UnitedNetModel(const ModelSpec& spec, uint64_t seed)
    : TranslationModel("UnitedNetModel", spec), noise_(std::make_shared<Generator>(seed, 11)) {
  Generator init(seed, 5);
  const size_t M = spec.inputs.size();
  for (size_t m = 0; m < M; ++m) {
    const std::string n = std::to_string(m);
    nn::MLPConfig enc;
    enc.widths = {spec.encoder_inputs(m)};
    enc.widths.insert(enc.widths.end(), spec.hidden.begin(), spec.hidden.end());
    enc.batch_norm = true;
    enc.activation = nn::Activation::ReLU;
    enc.init = nn::Init::KaimingNormal;
    if (spec.vae) {
      vae_encoders_.push_back(
          register_module("encoder" + n, std::make_shared<nn::GaussianEncoder>(enc, spec.latent, init, noise_)));
    } else {
      enc.widths.push_back(spec.latent);
      encoders_.push_back(register_module("encoder" + n, nn::make_mlp(enc, init, nullptr)));
    }
    std::vector<int64_t> dec = {spec.latent};
    dec.insert(dec.end(), spec.hidden.rbegin(), spec.hidden.rend());
    dec.push_back(spec.outputs(m));
    decoders_.push_back(
        register_module("decoder" + n, std::make_shared<ConditionedDecoder>(dec, spec.conditions, init)));
    if (spec.discriminators) {
      // No normalisation on the single output unit: a LayerNorm there makes the output constant
      // (a known defect of the public UnitedNet code).
      nn::MLPConfig disc;
      disc.widths = {spec.inputs[m], 64, 1};
      disc.activation = nn::Activation::LeakyReLU;
      disc.init = nn::Init::KaimingNormal;
      discriminators_.push_back(register_module("discriminator" + n, nn::make_mlp(disc, init, nullptr)));
    }
  }
  fuser_ = register_module("fuser", std::make_shared<nn::Fuser>(static_cast<int64_t>(M), spec.latent));
  nn::MLPConfig proj;
  proj.widths = {spec.latent, spec.projector};
  proj.layer_norm = true;
  proj.plain_output = false;
  proj.output_activation = nn::Activation::ReLU;
  proj.init = nn::Init::KaimingNormal;
  projector_ = register_module("projector", nn::make_mlp(proj, init, nullptr));
  if (spec.classes > 0)
    head_ = register_module("head", std::make_shared<nn::ClusterHead>(spec.projector, spec.classes, init));
  add_count_parameters();
  add_pathway_fronts(seed);
}

UnitedNetModel::Encoded UnitedNetModel::encode(const std::vector<Tensor>& x) {
  Encoded e;
  for (size_t m = 0; m < modalities(); ++m) {
    const Tensor in = encoder_input(m, x[m]);
    if (spec_.vae) {
      auto o = vae_encoders_[m]->forward(in);
      e.z.push_back(o.z);
      e.mu.push_back(o.mu);
      e.logvar.push_back(o.logvar);
    } else {
      e.z.push_back(encoders_[m]->forward(in));
    }
  }
  return e;
}

Tensor UnitedNetModel::encode_one(size_t m, const Tensor& x) {
  const Tensor in = encoder_input(m, x);
  return spec_.vae ? vae_encoders_.at(m)->forward(in).z : encoders_.at(m)->forward(in);
}

Tensor UnitedNetModel::decode(size_t target, const Tensor& z, const Tensor& condition) {
  return decoders_.at(target)->forward(z, condition);
}

Tensor UnitedNetModel::predict(size_t target, const Tensor& z, const Tensor& condition) {
  return output_prediction(target, decode(target, z, condition));
}

Tensor UnitedNetModel::fuse(const std::vector<Tensor>& z) { return fuser_->forward(z); }
Tensor UnitedNetModel::project(const Tensor& z) { return projector_->forward(z); }

Tensor UnitedNetModel::classify(const Tensor& projected) {
  if (!head_) throw Error("classify: the model has no classification head");
  return head_->forward(projected);
}

Tensor UnitedNetModel::discriminate(size_t m, const Tensor& x) {
  if (discriminators_.empty()) throw Error("discriminate: the model has no discriminators");
  return discriminators_.at(m)->forward(x);
}

std::vector<Tensor> UnitedNetModel::encoder_parameters() const {
  std::vector<Tensor> p = pathway_parameters();
  for (const auto& e : encoders_) append(p, e->parameters());
  for (const auto& e : vae_encoders_) append(p, e->parameters());
  return p;
}
std::vector<Tensor> UnitedNetModel::decoder_parameters() const {
  std::vector<Tensor> p;
  for (const auto& d : decoders_) append(p, d->parameters());
  return p;
}
std::vector<Tensor> UnitedNetModel::head_parameters() const {
  std::vector<Tensor> p = fuser_->parameters();
  append(p, projector_->parameters());
  if (head_) append(p, head_->parameters());
  return p;
}
std::vector<Tensor> UnitedNetModel::discriminator_parameters() const {
  std::vector<Tensor> p;
  for (const auto& d : discriminators_) append(p, d->parameters());
  return p;
}
std::vector<Tensor> UnitedNetModel::last_shared_parameters() const {
  std::vector<Tensor> p;
  if (spec_.vae) {
    // mu and logvar heads are the encoder's outputs; take both heads' weights.
    for (const auto& e : vae_encoders_)
      for (const auto& [name, t] : e->named_parameters())
        if (name.rfind("mu.", 0) == 0 || name.rfind("logvar.", 0) == 0) p.push_back(t);
  } else {
    for (const auto& e : encoders_) {
      const auto* last = dynamic_cast<const nn::Linear*>(e->at(e->size() - 1).get());
      if (last) {
        p.push_back(last->weight);
        p.push_back(last->bias);
      }
    }
  }
  return p;
}

}  // namespace cg::multitask
