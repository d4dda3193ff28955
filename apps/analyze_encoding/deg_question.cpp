#include "apps/analyze_encoding/deg_question.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "apps/analyze_encoding/data.h"
#include "apps/common/run_notes.h"
#include "omics/filter.h"
#include "omics/metrics_deg.h"

namespace cg::encoding {
namespace {

omics::DenseMatrix take(const omics::DenseMatrix& x, const std::vector<int64_t>& rows,
                        const std::vector<int64_t>& cols) {
  omics::DenseMatrix out(static_cast<int64_t>(rows.size()), static_cast<int64_t>(cols.size()));
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < cols.size(); ++j) out(static_cast<int64_t>(i), static_cast<int64_t>(j)) = x(rows[i], cols[j]);
  return out;
}

}  // namespace

std::vector<TypeDegs> top_degs_per_type(const CellData& d, int top, int min_cells) {
  std::vector<TypeDegs> out;
  for (size_t t = 0; t < d.labels.names.size(); ++t) {
    TypeDegs td;
    td.type = d.labels.names[t];
    for (size_t i = 0; i < d.labels.code.size(); ++i) {
      if (d.labels.code[i] != static_cast<int>(t)) continue;
      if (d.condition[i] == 0) td.control.push_back(static_cast<int64_t>(i));
      if (d.condition[i] == 1) td.stimulated.push_back(static_cast<int64_t>(i));
    }
    if (static_cast<int>(td.control.size()) < min_cells || static_cast<int>(td.stimulated.size()) < min_cells) {
      apps::note("DEG question: type '" + td.type + "' has " + std::to_string(td.control.size()) + " control and " +
                 std::to_string(td.stimulated.size()) + " stimulated cells (fewer than " + std::to_string(min_cells) +
                 " in a condition); skipped");
      continue;
    }
    const auto r = omics::rank_genes_groups(omics::csr_select_rows(d.log, td.stimulated),
                                            omics::csr_select_rows(d.log, td.control));
    std::vector<int64_t> order(r.scores.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return std::abs(r.scores[a]) > std::abs(r.scores[b]); });
    order.resize(std::min<size_t>(order.size(), static_cast<size_t>(top)));
    td.genes = order;
    out.push_back(std::move(td));
  }
  return out;
}

nlohmann::json changed_degs(const std::vector<TypeDegs>& degs, const omics::DenseMatrix& features) {
  nlohmann::json j = nlohmann::json::object();
  int64_t all = 0, changed_all = 0;
  for (const auto& td : degs) {
    const auto r = omics::rank_genes_groups(take(features, td.stimulated, td.genes),
                                            take(features, td.control, td.genes));
    int64_t changed = 0;
    for (double p : r.pvals_adj) changed += p < 0.05;
    j[td.type] = {{"degs", td.genes.size()}, {"changed", changed}};
    all += static_cast<int64_t>(td.genes.size());
    changed_all += changed;
  }
  j["total"] = {{"degs", all}, {"changed", changed_all}};
  return j;
}

}  // namespace cg::encoding
