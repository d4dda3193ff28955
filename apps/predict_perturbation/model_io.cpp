#include "apps/predict_perturbation/model_io.h"

#include "apps/common/run_folder.h"
#include "apps/predict_perturbation/encoded_input.h"
#include "apps/predict_perturbation/gene_sets.h"
#include "apps/predict_perturbation/model_registry.h"
#include "autograd/error.h"
#include "base/registry.h"
#include "nn/checkpoint.h"

namespace cg::perturb {
namespace {

nlohmann::json to_json(const SavedModel& s) {
  nlohmann::json j = {{"model", s.model},
                      {"genes", s.genes},
                      {"condition_key", s.condition_key},
                      {"control", s.control},
                      {"cell_type_key", s.cell_type_key},
                      {"perturbed", s.perturbed},
                      {"preprocess", s.preprocess},
                      {"cell_types", s.cell_types},
                      {"types_with_value", s.types_with_value},
                      {"responses", s.responses},
                      {"training", s.training}};
  if (s.encoding) j["encoding"] = encoding_to_json(*s.encoding);
  if (s.gene_encoder.kind != GeneEncoderSpec::Kind::Mlp) j["gene_encoder"] = gene_encoder_json(s.gene_encoder);
  return j;
}

SavedModel saved_from_json(const apps::ModelFolder& m) {
  SavedModel s;
  const std::string where = "--model " + m.dir + ": model.json";
  try {
    s.model = apps::model_entry(m, "model").get<std::string>();
    s.genes = apps::model_entry(m, "genes").get<std::vector<std::string>>();
    s.condition_key = apps::model_entry(m, "condition_key").get<std::string>();
    s.control = apps::model_entry(m, "control").get<std::string>();
    s.cell_type_key = apps::model_entry(m, "cell_type_key").get<std::string>();
    s.perturbed = apps::model_entry(m, "perturbed").get<std::vector<std::string>>();
    s.preprocess = apps::model_entry(m, "preprocess").get<std::string>();
    s.cell_types = apps::model_entry(m, "cell_types").get<std::vector<std::string>>();
    s.types_with_value =
        apps::model_entry(m, "types_with_value").get<std::map<std::string, std::vector<std::string>>>();
    s.responses = apps::model_entry(m, "responses").get<std::map<std::string, Response>>();
    s.training = m.model.value("training", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + ": an entry has the wrong type (" + std::string(e.what()) + ")");
  }
  if (s.genes.empty()) throw Error(where + ": lists no genes");
  if (is_encoding(s.preprocess)) {
    if (!m.model.contains("encoding"))
      throw Error(where + ": preprocess '" + s.preprocess + "' needs the fitted 'encoding', which is missing");
    s.encoding = encoding_from_json(m.model.at("encoding"), s.genes.size(), where);
  }
  // Folders written before pathway encoders have no entry: their network reads genes directly.
  s.gene_encoder =
      gene_encoder_from_json(m.model.value("gene_encoder", nlohmann::json()), static_cast<int64_t>(s.genes.size()), where);
  if (s.perturbed.empty()) throw Error(where + ": lists no perturbed values");
  for (const auto& p : s.perturbed)
    if (!s.responses.count(p)) throw Error(where + ": has no fitted response for '" + p + "'");
  return s;
}

}  // namespace

void write_model_folder(const std::string& dir, const Config& config, const SavedModel& saved, PerturbModel* network) {
  std::vector<std::string> files = {"config.json", "model.json"};
  apps::write_text_file(dir + "/config.json", resolved_json(config).dump(2) + "\n");
  apps::write_text_file(dir + "/model.json", to_json(saved).dump(1) + "\n");
  if (network) {
    nn::TrainingState state;
    state.modules = {{"model", network}};
    state.metadata = saved.model;
    nn::save_checkpoint(dir + "/weights.h5", state);
    files.push_back("weights.h5");
  }
  apps::seal_model_folder(dir, "predict_perturbation", files);
}

LoadedModel load_model_folder(const std::string& dir, Device device) {
  LoadedModel l;
  l.folder = apps::open_model_folder(dir, "predict_perturbation");
  merge_json(l.config, l.folder.config, "--model " + dir + ": config.json");
  l.saved = saved_from_json(l.folder);
  const PerturbModelEntry& entry =
      find_named(perturb_models(), l.saved.model, "--model " + dir + ": model.json names an unknown model");
  if (entry.network.empty()) return l;
  if (!l.folder.manifest["files"].contains("weights.h5"))
    throw Error("--model " + dir + ": model '" + l.saved.model +
                "' needs weights.h5, which the manifest does not list");
  const uint64_t seed = l.config.seeds.empty() ? 0 : l.config.seeds.front();
  l.network = perturb_network(entry.network)
                  .make(static_cast<int64_t>(l.saved.genes.size()), 1 + static_cast<int64_t>(l.saved.perturbed.size()),
                        recipe_for(l.config, entry.network), l.saved.gene_encoder, seed);
  l.network->to(device);
  nn::TrainingState state;
  state.modules = {{"model", l.network.get()}};
  try {
    nn::load_checkpoint(l.folder.file("weights.h5"), state);
  } catch (const Error& e) {
    std::string detail = e.what();  // one line: the checkpoint lists its differences line by line
    for (size_t at = detail.find("\n  "); at != std::string::npos; at = detail.find("\n  ", at))
      detail.replace(at, 3, "; ");
    throw Error("--model " + dir +
                ": the weights do not fit the model that config.json and model.json describe: " + detail);
  }
  return l;
}

}  // namespace cg::perturb
