#include "apps/train_multitask/mlp_translator.h"

#include "apps/common/matrix_bridge.h"
#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/optim.h"
#include "nn/losses.h"

namespace cg::multitask {

MlpTranslator::MlpTranslator(const ModelSpec& spec, uint64_t seed)
    : TranslationModel("MlpTranslator", spec), dropout_(std::make_shared<Generator>(seed, 11)) {
  Generator init(seed, 5);
  const size_t M = spec.inputs.size();
  nets_.assign(M, std::vector<std::shared_ptr<nn::Sequential>>(M));
  for (size_t j = 0; j < M; ++j)
    for (size_t i = 0; i < M; ++i) {
      if (i == j) continue;
      nn::MLPConfig c;
      c.widths = {spec.encoder_inputs(j)};
      c.widths.insert(c.widths.end(), spec.hidden.begin(), spec.hidden.end());
      c.widths.push_back(spec.outputs(i));
      c.batch_norm = true;
      c.activation = nn::Activation::ReLU;
      c.dropout = spec.dropout;
      c.dropout_after_activation = true;
      c.init = nn::Init::TorchDefault;  // Kaiming-normal outputs start ~10x too large here (loss 10 vs 1)
      nets_[j][i] = register_module("net" + std::to_string(j) + "_" + std::to_string(i),
                                    nn::make_mlp(c, init, spec.dropout > 0 ? dropout_ : nullptr));
    }
  add_count_parameters();
  add_pathway_fronts(seed);
}

Tensor MlpTranslator::raw(size_t source, size_t target, const Tensor& x) {
  return nets_.at(source).at(target)->forward(encoder_input(source, x));
}

Tensor MlpTranslator::translate(size_t source, size_t target, const Tensor& x, const Tensor&) {
  return output_prediction(target, raw(source, target, x));
}

std::vector<Tensor> MlpTranslator::output_biases(size_t target) {
  std::vector<Tensor> b;
  for (size_t j = 0; j < modalities(); ++j)
    if (j != target) b.push_back(dynamic_cast<nn::Linear&>(*nets_[j][target]->at(nets_[j][target]->size() - 1)).bias);
  return b;
}

namespace {

// Mean over directions of each direction's loss.
Tensor translation_loss(MlpTranslator& model, const BatchTensors& b) {
  const size_t M = model.modalities();
  Tensor total;
  int n = 0;
  for (size_t j = 0; j < M; ++j)
    for (size_t i = 0; i < M; ++i) {
      if (i == j) continue;
      const Tensor l = model.output_loss(i, model.raw(j, i, b.x[j]), b.x[i], b.counts[i], b.library[i]);
      total = total.defined() ? total + l : l;
      ++n;
    }
  return total * (1.0 / n);
}

}  // namespace

nn::FitResult train_mlp(MlpTranslator& model, const Config& c, const TrainData& d, const Split& split, Device device,
                        const std::string& folder, const std::string& label) {
  for (size_t m = 0; m < model.modalities(); ++m)
    model.start_outputs_at_mean(m, apps::take_rows(d.X[m], split.train), apps::take_rows(d.counts[m], split.train));
  model.to(device);
  AdamOptions ao;
  ao.lr = c.lr;
  Adam opt(model.parameters(), ao);
  nn::Phase phase;
  phase.name = "translation";
  phase.optimizer = &opt;
  phase.zero_grad_module = &model;
  const BatchFeeder feeder(d, device);  // the training steps' batches (resident on a GPU)
  phase.forward = [&](const nn::Rows& rows) {
    const Tensor loss = translation_loss(model, feeder.batch(rows));
    nn::StepTerms t;
    t.logged.push_back({"translation", loss});
    t.weighted.push_back({"translation", loss});
    return t;
  };
  const BatchTensors validation = make_batch(d, split.validation, device);
  nn::FitHooks hooks;
  hooks.validate = [&](int, nn::EpochRow& row) {
    NoGradGuard no_grad;
    model.eval();
    const double v = translation_loss(model, validation).item();
    model.train();
    row["val_translation"] = v;
    row["val_loss"] = v;
  };
  nn::FitOptions o;
  o.epochs = c.epochs;
  o.patience = c.patience;
  o.batch_size = c.batch_size;
  o.seed = c.seed;
  o.label = label;
  o.terms = {"translation"};
  o.profile_epoch = c.profile ? 2 : 0;
  o.write_into(folder);
  nn::FitState state{&model, {}, {{"dropout", &model.dropout_generator()}}};
  std::vector<nn::Phase*> phases = {&phase};
  return nn::fit(state, [&](int) { return phases; }, split.train, hooks, o);
}

}  // namespace cg::multitask
