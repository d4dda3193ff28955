#include "apps/common/gene_set_selection.h"

#include "apps/common/matrix_bridge.h"
#include "autograd/error.h"
#include "omics/error.h"
#include "omics/genesets.h"

namespace cg::apps {
namespace {

// Soft mask: per pathway, this many coexpressed genes outside the set whose links the gates may
// open (SparsePathwayAttention's candidates); enough to repair a set's omissions without making
// the layer dense.
constexpr int64_t kSoftCandidates = 10;

[[noreturn]] void fail(const std::string& m) { throw Error(m); }

}  // namespace

void check_shared_gene_set_settings(const GeneEncoderSettings& s) {
  if (s.mask != "hard" && s.mask != "soft") fail("--mask: expected hard or soft, found '" + s.mask + "'");
  if (s.heads < 1 || s.embed < 1)
    fail("--heads and --embed: expected positive values, found " + std::to_string(s.heads) + " and " +
         std::to_string(s.embed));
  if (s.embed % s.heads != 0)
    fail("--embed " + std::to_string(s.embed) + " is not divisible by --heads " + std::to_string(s.heads) +
         " (each head takes embed / heads dimensions)");
  if (s.min_set_size < 0 || s.max_set_size < 0 || (s.max_set_size > 0 && s.max_set_size < s.min_set_size))
    fail("--min-set-size / --max-set-size: expected 0 <= min <= max (max 0: no bound), found " +
         std::to_string(s.min_set_size) + " and " + std::to_string(s.max_set_size));
  if (s.min_genes_present < 1)
    fail("--min-genes-present: expected at least 1, found " + std::to_string(s.min_genes_present));
  if (!(s.redundancy > 0 && s.redundancy <= 1))
    fail("--redundancy: expected a Jaccard threshold in (0, 1], found " + std::to_string(s.redundancy));
}

void check_encoder_choice(const GeneEncoderSettings& s) {
  const GeneEncoderSpec::Kind kind = gene_encoder_kind(s.encoder, s.encoder_flag);
  if (s.mask == "soft" && s.gene_sets.empty())
    fail("--mask soft: needs " + s.gene_sets_flag + s.assign + "FILE (a GMT file): the soft mask starts from the gene sets");
  if (kind != GeneEncoderSpec::Kind::Mlp && s.gene_sets.empty())
    fail(s.encoder_flag + s.assign + s.encoder + ": needs " + s.gene_sets_flag + s.assign +
         "FILE (a GMT file) to know which genes form each pathway");
  if (s.mask == "soft" && kind != GeneEncoderSpec::Kind::PathwayAttention)
    fail("--mask soft: applies to pathway-attention, found " + s.encoder_flag + s.assign + s.encoder);
}

std::optional<PathwaySets> select_pathways(const GeneEncoderSettings& s, const std::vector<std::string>& genes) {
  if (s.gene_sets.empty()) return std::nullopt;
  const std::string source = s.gene_sets_flag + " " + s.gene_sets;
  std::vector<omics::GeneSet> sets;
  try {
    sets = omics::read_gmt(s.gene_sets);
  } catch (const omics::DataError& e) {
    throw omics::DataError(s.gene_sets_flag + ": " + e.what());
  }
  omics::MaskOptions opt;
  opt.min_set_size = s.min_set_size;
  if (s.max_set_size > 0) opt.max_set_size = s.max_set_size;
  opt.min_genes_present = s.min_genes_present;
  const omics::GeneSetMask all = omics::build_mask(genes, sets, opt, source);
  const omics::GeneSetMask kept = s.redundancy < 1 ? omics::drop_redundant(all, s.redundancy) : all;
  PathwaySets out;
  out.ids = kept.set_ids;
  out.members = kept.members;
  out.summary = std::to_string(kept.n_sets) + " of " + std::to_string(sets.size()) + " gene sets kept (" +
                std::to_string(all.n_sets) + " pass the size filters), covering " +
                std::to_string(kept.genes_covered) + " of " + std::to_string(genes.size()) + " genes";
  return out;
}

GeneEncoderSpec gene_encoder_for(const GeneEncoderSettings& s, const PathwaySets* sets, const omics::DenseMatrix& X,
                                 const std::vector<int64_t>& train) {
  GeneEncoderSpec spec;
  spec.kind = gene_encoder_kind(s.encoder, s.encoder_flag);
  if (spec.kind == GeneEncoderSpec::Kind::Mlp) return spec;
  if (!sets) fail(s.encoder_flag + s.assign + s.encoder + ": no gene sets were selected");
  spec.members = sets->members;
  spec.pathway_names = sets->ids;
  spec.heads = s.heads;
  spec.embed = s.embed;
  spec.soft_mask = spec.kind == GeneEncoderSpec::Kind::PathwayAttention && s.mask == "soft";
  if (spec.soft_mask)
    spec.candidates = nn::coexpression_candidates(to_tensor(take_rows(X, train)), spec.members, kSoftCandidates);
  return spec;
}

}  // namespace cg::apps
