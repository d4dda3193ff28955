#include "apps/train_multitask/pathway_encoders.h"

#include <algorithm>

#include "apps/common/matrix_bridge.h"
#include "apps/common/run_notes.h"
#include "autograd/engine.h"

namespace cg::multitask {
namespace {
constexpr int64_t kChunk = 1024;  // the chunk evaluation and predict use
}  // namespace

void check_gene_sets_match(const Config& c, const Dataset& d) {
  for (const auto& m : d.modalities) {
    const apps::GeneEncoderSettings s = gene_encoder_settings(c, m.name);
    if (apps::gene_encoder_kind(s.encoder, s.encoder_flag) != apps::GeneEncoderSpec::Kind::Mlp)
      apps::select_pathways(s, m.var.index);
  }
}

std::vector<apps::GeneEncoderSpec> gene_encoders_for(const Config& c, const std::vector<PreparedModality>& prepared,
                                                     const std::vector<int64_t>& train, bool verbose) {
  std::vector<apps::GeneEncoderSpec> out;
  for (const auto& p : prepared) {
    const apps::GeneEncoderSettings s = gene_encoder_settings(c, p.name);
    if (apps::gene_encoder_kind(s.encoder, s.encoder_flag) == apps::GeneEncoderSpec::Kind::Mlp) {
      out.emplace_back();
      continue;
    }
    const auto sets = apps::select_pathways(s, p.var.index);
    if (verbose) apps::note(s.gene_sets_flag + ": " + sets->summary);
    out.push_back(apps::gene_encoder_for(s, &*sets, p.X, train));
  }
  return out;
}

omics::DenseMatrix pathway_activities(TranslationModel& model, size_t m, const omics::DenseMatrix& X) {
  NoGradGuard no_grad;
  const bool training = model.is_training();
  model.eval();
  const int64_t N = X.rows();
  omics::DenseMatrix out;
  for (int64_t s = 0; s < N; s += kChunk) {
    const int64_t n = std::min(kChunk, N - s);
    const omics::DenseMatrix part =
        apps::to_matrix(model.pathway_activities(m, apps::to_tensor(X.middleRows(s, n), model.device())));
    if (s == 0) out.resize(N, part.cols());
    out.middleRows(s, n) = part;
  }
  if (training) model.train();
  return out;
}

omics::AnnData pathway_anndata(const omics::DenseMatrix& activities, const omics::DataFrame& obs,
                               const std::string& modality, const apps::GeneEncoderSpec& spec) {
  omics::AnnData a;
  a.X = omics::Matrix::from(activities);
  a.obs = obs;
  std::vector<std::string> names = spec.pathway_names;
  for (int64_t k = static_cast<int64_t>(names.size()); k < activities.cols(); ++k)
    names.push_back("pathway" + std::to_string(k));
  a.var.index = names;
  a.obsm["X_pathways"] = activities;
  omics::UnsValue v;
  v.type = omics::UnsValue::Type::String;
  v.scalar = false;
  v.strings = names;
  a.uns["pathways"] = v;
  a.uns["modality"] = omics::UnsValue::text(modality);
  a.uns["encoder"] = omics::UnsValue::text(apps::gene_encoder_kind_name(spec.kind) +
                                           (spec.kind == apps::GeneEncoderSpec::Kind::PathwayAttention
                                                ? std::string(spec.soft_mask ? " (soft mask)" : " (hard mask)")
                                                : std::string()));
  return a;
}

}  // namespace cg::multitask
