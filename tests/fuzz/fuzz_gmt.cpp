// libFuzzer target: arbitrary bytes as a GMT file and as a PROGENy table, then matching, masking
// and the redundancy filter on whatever parsed. Only DataError may escape the library.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "omics/error.h"
#include "omics/genesets.h"

using namespace cg::omics;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/cellgrad_fuzz_gmt_" + std::to_string(::getpid()) + ".gmt";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  static const std::vector<std::string> genes = {"CD3E", "CD4", "ms4a1", "GAPDH", "ACTB", "TP53", "MYC", "CD3E"};
  try {
    auto sets = read_gmt(path);
    GeneMatch m = match_genes(genes, sets);
    (void)m.summary();
    for (double t : {0.0, 0.5, 1.0}) (void)nonredundant_sets(m.members, t);
    GeneSetMask mask = build_mask(genes, sets, MaskOptions{}, path);
    GeneSetMask kept = drop_redundant(mask, 0.5);
    if (kept.n_sets > mask.n_sets) __builtin_trap();
    (void)kept.to_dense();
  } catch (const DataError&) {
  }
  try {
    auto model = read_progeny(path);
    std::vector<std::string> pw;
    (void)progeny_weight_matrix(model, genes, &pw);
  } catch (const DataError&) {
  }
  return 0;
}
