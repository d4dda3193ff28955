#include "apps/train_multitask/predict.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

#include "apps/common/app_cli.h"
#include "apps/common/expression_input.h"
#include "apps/common/matrix_bridge.h"
#include "apps/common/run_folder.h"
#include "apps/common/run_notes.h"
#include "apps/train_multitask/data.h"
#include "apps/train_multitask/evaluate.h"
#include "apps/train_multitask/model_io.h"
#include "apps/train_multitask/outputs.h"
#include "apps/train_multitask/pathway_encoders.h"
#include "autograd/engine.h"
#include "autograd/error.h"
#include "base/text.h"
#include "omics/metrics_classification.h"

namespace cg::multitask {
namespace {

// The chunk evaluate_model uses, so that a model's own cells go through the same batches.
constexpr int64_t kChunk = 1024;

[[noreturn]] void fail(const std::string& m) { throw Error(m); }

struct Input {
  size_t model_index;  // position among the model's modalities
  std::string name, file;
  omics::DenseMatrix X;  // the model's input: cells x the model's features, preprocessed
};

struct Inputs {
  std::vector<Input> given;                        // in the order given
  omics::DataFrame obs;                            // the first file's obs (the cell order of every output)
  omics::DenseMatrix condition;                    // one-hot in the model's condition order (0 columns: none)
  std::optional<std::vector<std::string>> labels;  // the label column, when a file has it
};

// Reads, pairs (as training does: by obs index, in the first file's order), aligns by feature
// name and preprocesses every given file.
Inputs read_inputs(const PredictConfig& c, const SavedModel& m) {
  ModalityFiles files;
  std::vector<size_t> index;
  for (const auto& e : c.modalities) {
    const auto eq = e.find('=');
    files.emplace_back(e.substr(0, eq), e.substr(eq + 1));
    index.push_back(m.modality(files.back().first, "--modality " + e));
  }
  const std::vector<omics::AnnData> heads = read_paired_obs(files, 1);
  const std::vector<std::string>& cells = heads[0].obs.index;
  Inputs in;
  for (size_t k = 0; k < files.size(); ++k) {
    const auto& [name, file] = files[k];
    const ModalityPreprocessing& prep = m.modalities[index[k]];
    const std::string what = "--modality " + name + "=" + file;
    omics::ReadOptions ro;
    ro.rows = positions(heads[k], cells);
    ro.load_layers = false;
    ro.load_obsm = false;
    ro.load_uns = false;
    const MatrixSource source = matrix_source(c.layer, c.use_raw, name);
    omics::AnnData a = apps::read_h5ad_source(file, ro, source.layer, source.use_raw);
    if (prep.preprocess == "log1p" && !prep.bce)
      warn_if_already_logarithmic(
          a.X, what + " (the model applies log1p to " + name + ")",
          "The model was trained on " + name + " values before log1p (counts); give it the same kind of values.");
    const omics::DenseMatrix aligned =
        apps::align_genes(a.X.to_dense(), a.var.index, prep.input_features, c.fill_missing, what, "features");
    in.given.push_back(
        {index[k], name, file, apply_preprocessing(prep, omics::CsrMatrix::from_dense(aligned), what, cells)});
    if (k == 0) in.obs = std::move(a.obs);
  }
  const int64_t n = static_cast<int64_t>(cells.size());
  in.condition = omics::DenseMatrix::Zero(n, m.spec.conditions);
  if (m.spec.conditions > 0) {
    const auto values = find_obs_column(heads, cells, m.condition_key);
    if (!values)
      fail("the model's decoders are conditioned on obs column '" + m.condition_key + "' (" + join(m.conditions) +
           "); expected it in a given file's obs, found it in none");
    for (int64_t i = 0; i < n; ++i) {
      const std::string& v = (*values)[static_cast<size_t>(i)];
      const auto it = std::find(m.conditions.begin(), m.conditions.end(), v);
      if (it == m.conditions.end())
        fail("obs column '" + m.condition_key + "' of cell '" + cells[static_cast<size_t>(i)] + "' is '" + v +
             "'; expected one of the model's conditions (" + join(m.conditions) + ")");
      in.condition(i, it - m.conditions.begin()) = 1;
    }
  }
  if (!m.label_key.empty()) in.labels = find_obs_column(heads, cells, m.label_key);
  return in;
}

// Rows [s, s + n) of `x` as a tensor on `device`.
Tensor rows(const omics::DenseMatrix& x, int64_t s, int64_t n, Device device) {
  return apps::to_tensor(x.middleRows(s, n), device);
}

struct Latent {
  omics::DenseMatrix z;
  std::string description;
};

// The latent the outputs use: the model's Fuser when every modality is given (as training
// computes it), the Fuser's weights renormalised over the given modalities for a subset, the
// modality's own latent for one.
Latent combined_latent(TranslationModel& model, const SavedModel& m, const Inputs& in,
                       const std::vector<omics::DenseMatrix>& z) {
  if (in.given.size() == 1) return {z[0], "the latent of " + in.given[0].name + " (the only modality given)"};
  std::vector<std::string> names;
  for (const auto& g : in.given) names.push_back(g.name);
  const int64_t N = z[0].rows();
  if (in.given.size() == m.modalities.size()) {
    NoGradGuard no_grad;
    Latent out{omics::DenseMatrix(N, z[0].cols()), "the fused latent of every modality (" + join(names) + ")"};
    for (int64_t s = 0; s < N; s += kChunk) {
      const int64_t n = std::min(kChunk, N - s);
      std::vector<Tensor> ordered(m.modalities.size());
      for (size_t k = 0; k < in.given.size(); ++k) ordered[in.given[k].model_index] = rows(z[k], s, n, model.device());
      out.z.middleRows(s, n) = apps::to_matrix(model.fuse(ordered));
    }
    return out;
  }
  // UnitedNet's Fuser weights; a model without a Fuser (scbutterfly) averages its latents.
  std::vector<float> logits(m.modalities.size(), 0.0f);
  for (const auto& [name, t] : model.named_parameters())
    if (name == "fuser.weight") logits = t.to_vector<float>();
  double total = 0;
  std::vector<double> w;
  for (const auto& g : in.given) {
    w.push_back(std::exp(static_cast<double>(logits.at(g.model_index))));
    total += w.back();
  }
  omics::DenseMatrixD sum = omics::DenseMatrixD::Zero(N, z[0].cols());
  for (size_t k = 0; k < z.size(); ++k) sum += z[k].cast<double>() * (w[k] / total);
  apps::note("latent: the fusion weights renormalised over the given modalities (" + join(names) +
             "); the model was trained fusing all of " + std::to_string(m.modalities.size()));
  return {sum.cast<float>(), "the fused latent of " + join(names) + " (fusion weights renormalised over them)"};
}

omics::AnnData translation_file(const omics::DenseMatrix& values, const Inputs& in, const ModalityPreprocessing& src,
                                const ModalityPreprocessing& tgt, const std::string& model_dir,
                                const std::string& scale) {
  omics::AnnData a;
  a.X = omics::Matrix::from(values);
  a.obs = in.obs;
  a.var.index = tgt.features;
  a.uns["source_modality"] = omics::UnsValue::text(src.name);
  a.uns["target_modality"] = omics::UnsValue::text(tgt.name);
  a.uns["scale"] = omics::UnsValue::text(scale);
  a.uns["model"] = omics::UnsValue::text(model_dir);
  return a;
}

// Accuracy and macro F1 of the predicted classes against the label column, over the cells whose
// label is one of the model's classes.
nlohmann::json classification_metrics(const SavedModel& m, const std::vector<std::string>& labels,
                                      const ClassOutputs& c) {
  std::map<std::string, int64_t> code;
  for (size_t k = 0; k < m.classes.size(); ++k) code[m.classes[k]] = static_cast<int64_t>(k);
  std::vector<int64_t> truth, pred;
  int64_t unknown = 0, missing = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i].empty()) {
      ++missing;
      continue;
    }
    const auto it = code.find(labels[i]);
    if (it == code.end()) {
      ++unknown;
      continue;
    }
    truth.push_back(it->second);
    pred.push_back(c.predicted[i]);
  }
  if (unknown > 0)
    apps::warn("obs column '" + m.label_key + "': " + std::to_string(unknown) +
               " cell(s) have a class the model was not trained on; they are left out of the accuracy");
  nlohmann::json j = {
      {"cells_scored", truth.size()}, {"cells_with_unknown_class", unknown}, {"cells_without_label", missing}};
  if (!truth.empty()) {
    j["accuracy"] = omics::accuracy(truth, pred);
    j["macro_f1"] = omics::macro_f1(truth, pred);
  }
  return j;
}

// metrics.json, warnings.txt and the commit of the run folder.
int finish(apps::RunFolder& run, nlohmann::json& metrics, const std::vector<std::string>& not_computed,
           const PredictConfig& c);

}  // namespace

int run_predict(const PredictConfig& c) {
  c.validate();
  const Device device = apps::resolve_device(c.device);
  LoadedModel loaded = load_model_folder(c.model, device);
  const SavedModel& m = loaded.saved;
  TranslationModel& model = *loaded.model;
  const Inputs in = read_inputs(c, m);
  const int64_t N = in.obs.rows();
  std::string given;
  for (const auto& g : in.given) given += (given.empty() ? "" : ", ") + g.name;
  std::fprintf(stderr, "train_multitask predict: %lld cells of %s; model %s; device %s\n", static_cast<long long>(N),
               given.c_str(), c.model.c_str(), device_name(device));

  NoGradGuard no_grad;
  std::vector<omics::DenseMatrix> z;
  for (const auto& g : in.given) {
    if (model.latent_width() == 0) break;
    omics::DenseMatrix zg(N, model.latent_width());
    for (int64_t s = 0; s < N; s += kChunk) {
      const int64_t n = std::min(kChunk, N - s);
      zg.middleRows(s, n) = apps::to_matrix(model.encode_one(g.model_index, rows(g.X, s, n, device)));
    }
    z.push_back(std::move(zg));
  }

  // The model folder and the files read are inputs: --out may not be (or hold) any of them.
  std::vector<std::string> inputs = {loaded.folder.file("manifest.json")};
  for (const auto& g : in.given) inputs.push_back(g.file);
  apps::RunFolder run(c.out, c.overwrite, inputs);
  apps::write_text_file(run.path("config.json"), resolved_json(c).dump(2) + "\n");
  const std::string model_dir = apps::absolute_path(c.model);
  nlohmann::json metrics = {{"cells", N}, {"model", model_dir}}, directions = nlohmann::json::object();
  std::vector<std::string> not_computed;
  for (size_t k = 0; k < in.given.size(); ++k) {
    const ModalityPreprocessing& src = m.modalities[in.given[k].model_index];
    for (size_t t = 0; t < m.modalities.size(); ++t) {
      if (t == in.given[k].model_index) continue;
      const ModalityPreprocessing& tgt = m.modalities[t];
      omics::DenseMatrix predicted(N, static_cast<int64_t>(tgt.features.size()));
      for (int64_t s = 0; s < N; s += kChunk) {
        const int64_t n = std::min(kChunk, N - s);
        const Tensor cond = m.spec.conditions > 0 ? rows(in.condition, s, n, device) : Tensor();
        predicted.middleRows(s, n) =
            apps::to_matrix(model.translate(in.given[k].model_index, t, rows(in.given[k].X, s, n, device), cond));
      }
      // Count likelihoods predict mean counts: written as counts, scored on the model scale.
      const bool counts = m.spec.output(t).counts;
      const omics::DenseMatrix scored = counts ? counts_to_model_scale(tgt, predicted) : predicted;
      const std::string name = src.name + "_to_" + tgt.name;
      const auto truth =
          std::find_if(in.given.begin(), in.given.end(), [&](const Input& g) { return g.model_index == t; });
      if (truth != in.given.end()) directions[name] = translation_metrics(truth->X, scored, tgt.bce, tgt.features);
      else
        not_computed.push_back(name + ": no " + tgt.name + " file was given (--modality " + tgt.name +
                               "=FILE with the same cells scores it)");
      const std::string scale =
          counts ? "mean counts of the " + std::string(m.spec.output(t).name) +
                       " likelihood, at the training cells' mean library size"
                 : file_scale_description(tgt);
      omics::write_h5ad(run.path("translations/" + name + ".h5ad"),
                        translation_file(counts ? predicted : to_file_scale(tgt, std::move(predicted)), in, src, tgt,
                                         model_dir, scale));
    }
  }
  if (!directions.empty()) metrics["translation"] = directions;
  for (const auto& g : in.given)
    if (model.has_pathways(g.model_index)) {
      omics::AnnData pa =
          pathway_anndata(pathway_activities(model, g.model_index, g.X), in.obs, g.name, m.spec.gene_encoder(g.model_index));
      pa.uns["model"] = omics::UnsValue::text(model_dir);
      omics::write_h5ad(run.path("pathways/" + g.name + ".h5ad"), pa);
    }

  if (model.latent_width() == 0) {
    not_computed.push_back("latent and classification: the " + m.spec.model + " model has no shared latent");
    return finish(run, metrics, not_computed, c);
  }
  const Latent latent = combined_latent(model, m, in, z);
  omics::AnnData la;
  la.X = omics::Matrix::from(latent.z);
  la.obs = in.obs;
  for (int64_t j = 0; j < latent.z.cols(); ++j) la.var.index.push_back("latent" + std::to_string(j));
  la.obsm["X_latent"] = latent.z;
  la.uns["latent"] = omics::UnsValue::text(latent.description);
  la.uns["model"] = omics::UnsValue::text(model_dir);
  metrics["latent"] = latent.description;
  if (m.spec.classes > 0) {
    ClassOutputs classes;
    classes.probabilities = omics::DenseMatrix(N, m.spec.classes);
    for (int64_t s = 0; s < N; s += kChunk) {
      const int64_t n = std::min(kChunk, N - s);
      const ClassOutputs part = classify_latents(model, rows(latent.z, s, n, device));
      classes.predicted.insert(classes.predicted.end(), part.predicted.begin(), part.predicted.end());
      classes.probabilities.middleRows(s, n) = part.probabilities;
    }
    add_class_predictions(la, m.label_key, m.classes, classes);
    la.uns[m.label_key + "_classified_from"] = omics::UnsValue::text(latent.description);
    if (in.labels) {
      metrics["classification"] = classification_metrics(m, *in.labels, classes);
      if (!metrics["classification"].contains("accuracy")) {
        not_computed.push_back("classification: no cell's '" + m.label_key + "' is one of the model's classes");
        metrics.erase("classification");
      }
    } else not_computed.push_back("classification: no given file has the obs column '" + m.label_key + "'");
  } else {
    not_computed.push_back("classification: the model has no classifier");
  }
  omics::write_h5ad(run.path("latent.h5ad"), la);
  return finish(run, metrics, not_computed, c);
}

namespace {
int finish(apps::RunFolder& run, nlohmann::json& metrics, const std::vector<std::string>& not_computed,
           const PredictConfig& c) {
  if (!not_computed.empty()) metrics["not_computed"] = not_computed;
  if (!metrics.contains("translation") && !metrics.contains("classification"))
    metrics["no_metrics"] = "no metrics could be computed: " + join(not_computed, "; ");
  metrics["warnings"] = apps::run_notes();
  write_metrics(std::filesystem::path(run.path("metrics.json")).parent_path().string() + "/", metrics);
  std::string notes;
  for (const auto& line : apps::run_notes()) notes += line + "\n";
  apps::write_text_file(run.path("warnings.txt"), notes);
  run.commit();
  std::fprintf(stderr, "results in %s\n", c.out.c_str());
  return 0;
}

}  // namespace

}  // namespace cg::multitask
