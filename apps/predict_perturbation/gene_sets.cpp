#include "apps/predict_perturbation/gene_sets.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "apps/common/matrix_bridge.h"
#include "apps/predict_perturbation/model_registry.h"
#include "autograd/error.h"
#include "omics/genesets.h"

namespace cg::perturb {
namespace {

// Soft mask: per pathway, this many coexpressed genes outside the set whose links the gates may
// open (SparsePathwayAttention's candidates); enough to repair a set's omissions without making
// the layer dense.
constexpr int64_t kSoftCandidates = 10;

GeneEncoderSpec::Kind encoder_kind(const std::string& name) {
  if (name == "mlp") return GeneEncoderSpec::Kind::Mlp;
  if (name == "masked-linear") return GeneEncoderSpec::Kind::MaskedLinear;
  if (name == "pathway-attention") return GeneEncoderSpec::Kind::PathwayAttention;
  throw Error("--encoder: expected mlp, masked-linear or pathway-attention, found '" + name + "'");
}

std::string kind_name(GeneEncoderSpec::Kind k) {
  switch (k) {
    case GeneEncoderSpec::Kind::MaskedLinear: return "masked-linear";
    case GeneEncoderSpec::Kind::PathwayAttention: return "pathway-attention";
    default: return "mlp";
  }
}

// The comma-separated entries of a --encoder or --mask value; empty or repeated entries refused.
std::vector<std::string> listed(const std::string& value, const std::string& flag) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(value);
  while (std::getline(in, item, ',')) {
    if (item.empty()) throw Error(flag + ": an empty entry in '" + value + "'");
    if (std::find(out.begin(), out.end(), item) != out.end())
      throw Error(flag + ": '" + item + "' is listed twice");
    out.push_back(item);
  }
  if (out.empty()) throw Error(flag + ": expected at least one value");
  return out;
}

// The checks of one variant (c.encoder and c.mask single values).
void check_one_encoder(const Config& c) {
  auto fail = [](const std::string& m) { throw Error(m); };
  const GeneEncoderSpec::Kind kind = encoder_kind(c.encoder);
  if (c.mask != "hard" && c.mask != "soft") fail("--mask: expected hard or soft, found '" + c.mask + "'");
  if (c.mask == "soft" && c.gene_sets.empty())
    fail("--mask soft: needs --gene-sets FILE (a GMT file): the soft mask starts from the gene sets");
  if (kind != GeneEncoderSpec::Kind::Mlp && c.gene_sets.empty())
    fail("--encoder " + c.encoder + ": needs --gene-sets FILE (a GMT file) to know which genes form each pathway");
  if (c.heads < 1 || c.embed < 1)
    fail("--heads and --embed: expected positive values, found " + std::to_string(c.heads) + " and " +
         std::to_string(c.embed));
  if (c.embed % c.heads != 0)
    fail("--embed " + std::to_string(c.embed) + " is not divisible by --heads " + std::to_string(c.heads) +
         " (each head takes embed / heads dimensions)");
  if (c.min_set_size < 0 || c.max_set_size < 0 || (c.max_set_size > 0 && c.max_set_size < c.min_set_size))
    fail("--min-set-size / --max-set-size: expected 0 <= min <= max (max 0: no bound), found " +
         std::to_string(c.min_set_size) + " and " + std::to_string(c.max_set_size));
  if (c.min_genes_present < 1)
    fail("--min-genes-present: expected at least 1, found " + std::to_string(c.min_genes_present));
  if (!(c.redundancy > 0 && c.redundancy <= 1))
    fail("--redundancy: expected a Jaccard threshold in (0, 1], found " + std::to_string(c.redundancy));
  if (kind != GeneEncoderSpec::Kind::Mlp && networks_of(c.models).empty())
    fail("--encoder " + c.encoder + ": applies to the trained networks (scgen, vidr, the mtae family); the chosen "
         "models train none");
}

}  // namespace

std::vector<EncoderVariant> encoder_variants(const Config& c) {
  const std::vector<std::string> encoders = listed(c.encoder, "--encoder"), masks = listed(c.mask, "--mask");
  std::vector<EncoderVariant> out;
  for (const auto& e : encoders) {
    if (e != "pathway-attention") {
      out.push_back({e, "hard", e});
      continue;
    }
    for (const auto& m : masks) out.push_back({e, m, e});
  }
  if (out.size() > 1)
    for (auto& v : out)
      if (v.encoder == "pathway-attention") v.label += "-" + v.mask;
  return out;
}

Config with_encoder(const Config& c, const EncoderVariant& v) {
  Config one = c;
  one.encoder = v.encoder;
  one.mask = v.mask;
  return one;
}

void require_one_encoder(const Config& c, const std::string& command) {
  if (encoder_variants(c).size() != 1)
    throw Error("--encoder " + c.encoder + " --mask " + c.mask + ": " + command +
                " trains one encoder; several (a comma-separated list) are compared by the leave-one-out benchmark");
}

void check_gene_set_settings(const Config& c) {
  const std::vector<std::string> encoders = listed(c.encoder, "--encoder"), masks = listed(c.mask, "--mask");
  for (const auto& e : encoders) encoder_kind(e);  // an unknown name first, as a single encoder reports it
  const bool attention = std::find(encoders.begin(), encoders.end(), "pathway-attention") != encoders.end();
  for (const auto& m : masks) {
    if (m != "hard" && m != "soft") throw Error("--mask: expected hard or soft, found '" + m + "'");
    if (m == "soft" && !attention)
      throw Error("--mask soft: applies to --encoder pathway-attention, found --encoder " + c.encoder);
  }
  if (masks.size() > 1 && !attention)
    throw Error("--mask " + c.mask + ": several masks apply to --encoder pathway-attention, found --encoder " +
                c.encoder);
  for (const EncoderVariant& v : encoder_variants(c)) check_one_encoder(with_encoder(c, v));
}

std::optional<PathwaySets> select_pathways(const Config& c, const std::vector<std::string>& genes) {
  if (c.gene_sets.empty()) return std::nullopt;
  const std::vector<omics::GeneSet> sets = omics::read_gmt(c.gene_sets);
  omics::MaskOptions opt;
  opt.min_set_size = c.min_set_size;
  if (c.max_set_size > 0) opt.max_set_size = c.max_set_size;
  opt.min_genes_present = c.min_genes_present;
  const omics::GeneSetMask all = omics::build_mask(genes, sets, opt, "--gene-sets " + c.gene_sets);
  const omics::GeneSetMask kept = c.redundancy < 1 ? omics::drop_redundant(all, c.redundancy) : all;
  PathwaySets out;
  out.ids = kept.set_ids;
  out.members = kept.members;
  out.summary = std::to_string(kept.n_sets) + " of " + std::to_string(sets.size()) + " gene sets kept (" +
                std::to_string(all.n_sets) + " pass the size filters), covering " +
                std::to_string(kept.genes_covered) + " of " + std::to_string(genes.size()) + " genes";
  return out;
}

GeneEncoderSpec gene_encoder_for(const Config& c, const PathwaySets* sets, const omics::DenseMatrix& X,
                                 const std::vector<int64_t>& train) {
  GeneEncoderSpec spec;
  spec.kind = encoder_kind(c.encoder);
  if (spec.kind == GeneEncoderSpec::Kind::Mlp) return spec;
  if (!sets) throw Error("--encoder " + c.encoder + ": no gene sets were selected");
  spec.members = sets->members;
  spec.heads = c.heads;
  spec.embed = c.embed;
  spec.soft_mask = spec.kind == GeneEncoderSpec::Kind::PathwayAttention && c.mask == "soft";
  if (spec.soft_mask)
    spec.candidates = nn::coexpression_candidates(apps::to_tensor(apps::take_rows(X, train)), spec.members,
                                                  kSoftCandidates);
  return spec;
}

nlohmann::json gene_encoder_json(const GeneEncoderSpec& spec) {
  if (spec.kind == GeneEncoderSpec::Kind::Mlp) return nullptr;
  nlohmann::json j = {{"kind", kind_name(spec.kind)}, {"members", spec.members}};
  if (spec.kind == GeneEncoderSpec::Kind::PathwayAttention) {
    j["mask"] = spec.soft_mask ? "soft" : "hard";
    j["heads"] = spec.heads;
    j["embed"] = spec.embed;
    if (spec.soft_mask) j["candidates"] = spec.candidates;
  }
  return j;
}

GeneEncoderSpec gene_encoder_from_json(const nlohmann::json& j, int64_t genes, const std::string& where) {
  GeneEncoderSpec spec;
  if (j.is_null()) return spec;
  try {
    spec.kind = encoder_kind(j.at("kind").get<std::string>());
    spec.members = j.at("members").get<std::vector<std::vector<int64_t>>>();
    if (spec.kind == GeneEncoderSpec::Kind::PathwayAttention) {
      spec.soft_mask = j.at("mask").get<std::string>() == "soft";
      spec.heads = j.at("heads").get<int64_t>();
      spec.embed = j.at("embed").get<int64_t>();
      if (spec.soft_mask) spec.candidates = j.at("candidates").get<std::vector<std::vector<int64_t>>>();
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + ": gene_encoder: an entry is missing or has the wrong type (" + std::string(e.what()) + ")");
  } catch (const Error& e) {
    throw Error(where + ": gene_encoder: " + e.what());
  }
  for (const auto* lists : {&spec.members, &spec.candidates})
    for (const auto& list : *lists)
      for (int64_t g : list)
        if (g < 0 || g >= genes)
          throw Error(where + ": gene_encoder: gene index " + std::to_string(g) + " outside the model's " +
                      std::to_string(genes) + " genes");
  return spec;
}

}  // namespace cg::perturb
