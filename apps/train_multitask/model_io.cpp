#include "apps/train_multitask/model_io.h"

#include <sstream>

#include "apps/common/run_folder.h"
#include "autograd/error.h"
#include "apps/train_multitask/model_registry.h"
#include "base/text.h"
#include "nn/checkpoint.h"

namespace cg::multitask {
namespace {

constexpr const char* kApp = "train_multitask";
constexpr const char* kWeights = "weights.h5";

[[noreturn]] void fail(const std::string& m) { throw Error(m); }

nlohmann::json spec_to_json(const ModelSpec& s) {
  nlohmann::json j = {{"inputs", s.inputs},
          {"bce", s.bce},
          {"hidden", s.hidden},
          {"latent", s.latent},
          {"projector", s.projector},
          {"classes", s.classes},
          {"conditions", s.conditions},
          {"vae", s.vae},
          {"discriminators", s.discriminators},
          {"model", s.model},
          {"likelihood", s.likelihood},
          {"library", s.library},
          {"dropout", s.dropout}};
  // Per modality (null: mlp); left out when no modality has a pathway encoder, as before them.
  bool pathways = false;
  nlohmann::json enc = nlohmann::json::array();
  for (size_t m = 0; m < s.inputs.size(); ++m) {
    enc.push_back(apps::gene_encoder_json(s.gene_encoder(m)));
    pathways = pathways || s.gene_encoder(m).is_pathway();
  }
  if (pathways) j["gene_encoders"] = enc;
  return j;
}

ModelSpec spec_from_json(const nlohmann::json& j, const std::string& where) {
  ModelSpec s;
  try {
    s.inputs = j.at("inputs").get<std::vector<int64_t>>();
    s.bce = j.at("bce").get<std::vector<bool>>();
    s.hidden = j.at("hidden").get<std::vector<int64_t>>();
    s.latent = j.at("latent").get<int64_t>();
    s.projector = j.at("projector").get<int64_t>();
    s.classes = j.at("classes").get<int64_t>();
    s.conditions = j.at("conditions").get<int64_t>();
    s.vae = j.at("vae").get<bool>();
    s.discriminators = j.at("discriminators").get<bool>();
    // Absent in model folders written before --model and count likelihoods: UnitedNet, mse/bce.
    s.model = j.value("model", std::string("unitednet"));
    s.likelihood = j.value("likelihood", std::vector<std::string>{});
    s.library = j.value("library", std::vector<double>{});
    s.dropout = j.value("dropout", 0.0);
  } catch (const nlohmann::json::exception&) {
    fail(where +
         ": 'spec' must hold inputs, bce, hidden (lists), latent, projector, classes, conditions (integers), "
         "vae and discriminators (true/false)");
  }
  auto positive = [&](int64_t v, const char* what) {
    if (v < 1) fail(where + ": spec '" + what + "' must be positive, found " + std::to_string(v));
  };
  for (int64_t v : s.inputs) positive(v, "inputs");
  for (int64_t v : s.hidden) positive(v, "hidden");
  positive(s.latent, "latent");
  positive(s.projector, "projector");
  if (s.hidden.empty()) fail(where + ": spec 'hidden' is empty; expected at least one hidden width");
  if (s.classes < 0 || s.conditions < 0) fail(where + ": spec 'classes' and 'conditions' must be >= 0");
  try {
    model_entry(s.model);
    for (const auto& l : s.likelihood) likelihood(l);
  } catch (const std::exception& e) {
    fail(where + ": spec: " + e.what());
  }
  if (j.contains("gene_encoders")) {
    const nlohmann::json& enc = j.at("gene_encoders");
    if (!enc.is_array() || enc.size() != s.inputs.size())
      fail(where + ": spec 'gene_encoders' must list one entry per modality (" + std::to_string(s.inputs.size()) +
           ")");
    for (size_t m = 0; m < enc.size(); ++m)
      s.gene_encoders.push_back(
          apps::gene_encoder_from_json(enc[m], s.inputs[m], where + ": spec modality " + std::to_string(m)));
  }
  if (!s.likelihood.empty() && s.likelihood.size() != s.inputs.size())
    fail(where + ": spec 'likelihood' names " + std::to_string(s.likelihood.size()) + " modalities, expected " +
         std::to_string(s.inputs.size()));
  return s;
}

// load_checkpoint lists every difference on its own line; an app error is one line.
std::string one_line(const std::string& text, size_t keep) {
  std::istringstream in(text);
  std::string line, head, out;
  std::getline(in, head);
  std::vector<std::string> items;
  while (std::getline(in, line)) {
    const size_t start = line.find_first_not_of(' ');
    if (start != std::string::npos) items.push_back(line.substr(start));
  }
  out = head;
  for (size_t i = 0; i < items.size() && i < keep; ++i) out += (i ? "; " : " ") + items[i];
  if (items.size() > keep) out += "; ... (" + std::to_string(items.size() - keep) + " more)";
  return out;
}

}  // namespace

size_t SavedModel::modality(const std::string& name, const std::string& flag) const {
  std::vector<std::string> names;
  for (size_t m = 0; m < modalities.size(); ++m) {
    if (modalities[m].name == name) return m;
    names.push_back(modalities[m].name);
  }
  fail(flag + ": the model has no modality '" + name + "' (its modalities: " + join(names) + ")");
}

nlohmann::json saved_model_to_json(const SavedModel& m) {
  nlohmann::json mods = nlohmann::json::array();
  for (const auto& p : m.modalities) mods.push_back(preprocessing_to_json(p));
  return {{"modalities", mods},
          {"spec", spec_to_json(m.spec)},
          {"label_key", m.label_key},
          {"classes", m.classes},
          {"condition_key", m.condition_key},
          {"conditions", m.conditions},
          {"seed", m.seed},
          {"training", m.training}};
}

SavedModel saved_model_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) fail(where + ": expected a JSON object");
  for (const char* key : {"modalities", "spec", "label_key", "classes", "condition_key", "conditions", "seed"})
    if (!j.contains(key)) fail(where + ": '" + key + "' is missing");
  SavedModel m;
  const auto& mods = j.at("modalities");
  if (!mods.is_array() || mods.size() < 2)
    fail(where + ": 'modalities' must list at least two modalities, found " +
         (mods.is_array() ? std::to_string(mods.size()) : std::string("no list")));
  for (size_t i = 0; i < mods.size(); ++i)
    m.modalities.push_back(preprocessing_from_json(mods[i], where + ": modality " + std::to_string(i)));
  m.spec = spec_from_json(j.at("spec"), where);
  try {
    m.label_key = j.at("label_key").get<std::string>();
    m.classes = j.at("classes").get<std::vector<std::string>>();
    m.condition_key = j.at("condition_key").get<std::string>();
    m.conditions = j.at("conditions").get<std::vector<std::string>>();
    m.seed = j.at("seed").get<uint64_t>();
  } catch (const nlohmann::json::exception&) {
    fail(where + ": label_key and condition_key must be text, classes and conditions lists of names, seed an integer");
  }
  m.training = j.value("training", nlohmann::json::object());
  // The spec must describe these modalities; the weights are checked against the spec on load.
  if (m.spec.inputs.size() != m.modalities.size() || m.spec.bce.size() != m.modalities.size())
    fail(where + ": spec has " + std::to_string(m.spec.inputs.size()) + " inputs, expected " +
         std::to_string(m.modalities.size()) + " (one per modality)");
  for (size_t i = 0; i < m.modalities.size(); ++i) {
    const auto& p = m.modalities[i];
    if (m.spec.inputs[i] != static_cast<int64_t>(p.features.size()))
      fail(where + ": spec says modality '" + p.name + "' has " + std::to_string(m.spec.inputs[i]) +
           " inputs, its feature list has " + std::to_string(p.features.size()));
    if (m.spec.bce[i] != p.bce) fail(where + ": spec and modality '" + p.name + "' disagree on bce");
  }
  if (m.spec.classes > 0 && m.spec.classes != static_cast<int64_t>(m.classes.size()))
    fail(where + ": spec has " + std::to_string(m.spec.classes) + " classes, 'classes' names " +
         std::to_string(m.classes.size()));
  if (m.spec.classes > 0 && m.label_key.empty()) fail(where + ": the model has a classifier but no 'label_key'");
  if (m.spec.conditions != static_cast<int64_t>(m.conditions.size()))
    fail(where + ": spec has " + std::to_string(m.spec.conditions) + " conditions, 'conditions' names " +
         std::to_string(m.conditions.size()));
  if (m.spec.conditions > 0 && m.condition_key.empty())
    fail(where + ": the model's decoders are conditioned but 'condition_key' is empty");
  return m;
}

void write_model_folder(const std::string& folder, const nlohmann::json& config, const SavedModel& saved,
                        TranslationModel& model) {
  std::string dir = folder;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  apps::write_text_file(dir + "/config.json", config.dump(2) + "\n");
  apps::write_text_file(dir + "/model.json", saved_model_to_json(saved).dump(1) + "\n");
  nn::TrainingState state;
  state.modules = {{"model", &model}};
  state.metadata = "train_multitask model weights; see model.json beside this file";
  nn::save_checkpoint(dir + "/" + kWeights, state);
  apps::seal_model_folder(dir, kApp, {"config.json", "model.json", kWeights});
}

LoadedModel load_model_folder(const std::string& dir, Device device) {
  LoadedModel l;
  l.folder = apps::open_model_folder(dir, kApp);
  if (!l.folder.manifest["files"].contains(kWeights))
    fail("--model " + dir + ": manifest.json does not list " + kWeights + " (expected a train_multitask model folder)");
  l.saved = saved_model_from_json(l.folder.model, "--model " + dir + ": model.json");
  l.model = model_entry(l.saved.spec.model).make(l.saved.spec, l.saved.seed);
  nn::TrainingState state;
  state.modules = {{"model", l.model.get()}};
  try {
    nn::load_checkpoint(l.folder.file(kWeights), state);
  } catch (const std::exception& e) {
    fail("--model " + dir + ": " + kWeights +
         " does not fit the model that model.json's spec describes: " + one_line(e.what(), 4));
  }
  l.model->to(device);
  l.model->eval();
  return l;
}

}  // namespace cg::multitask
