#include "apps/predict_perturbation/pathway_outputs.h"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "apps/common/matrix_bridge.h"
#include "apps/common/run_folder.h"
#include "autograd/engine.h"
#include "autograd/error.h"
#include "autograd/ops.h"

namespace cg::perturb {
namespace {

PathwayFront& front_of(const PerturbModel& network) {
  PathwayFront* front = network.pathway_front();
  if (!front) throw Error("pathway outputs: the network has no pathway encoder");
  return *front;
}

nn::SparsePathwayAttention& attention_of(const PerturbModel& network) {
  nn::SparsePathwayAttention* a = front_of(network).attention();
  if (!a) throw Error("pathway outputs: the network's pathway encoder is not pathway-attention");
  return *a;
}

}  // namespace

omics::DenseMatrix pathway_activities(PerturbModel& network, const omics::DenseMatrix& X, Device device) {
  PathwayFront& front = front_of(network);
  network.eval();
  return apps::map_rows(X, device, [&](const Tensor& x) { return front.forward(x); });
}

void write_attention_top_genes(const std::string& path, PerturbModel& network, const omics::DenseMatrix& cells,
                               const std::vector<std::string>& genes, const std::vector<std::string>& pathways,
                               Device device, int top) {
  nn::SparsePathwayAttention& layer = attention_of(network);
  network.eval();
  NoGradGuard no_grad;
  const int64_t nnz = layer.nnz(), heads = layer.config().heads, chunk = 256;
  std::vector<double> total(static_cast<size_t>(nnz), 0.0);
  for (int64_t s = 0; s < cells.rows(); s += chunk) {
    const int64_t n = std::min(chunk, cells.rows() - s);
    const std::vector<float> a =
        layer.forward(apps::to_tensor(cells.middleRows(s, n), device), true).attention.to_vector<float>();
    for (int64_t r = 0; r < n * heads; ++r)  // [n, heads, nnz]: every (cell, head) row adds up
      for (int64_t e = 0; e < nnz; ++e) total[static_cast<size_t>(e)] += a[static_cast<size_t>(r * nnz + e)];
  }
  const double count = static_cast<double>(std::max<int64_t>(cells.rows() * heads, 1));
  std::ostringstream csv;
  csv << "pathway,rank,gene,mean_attention\n";
  csv.precision(6);
  size_t e0 = 0;  // the first link of pathway p
  const auto& links = layer.links();
  for (size_t p = 0; p < links.size(); ++p) {
    std::vector<size_t> order(links[p].size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return total[e0 + a] > total[e0 + b]; });
    for (size_t k = 0; k < order.size() && k < static_cast<size_t>(top); ++k)
      csv << pathways.at(p) << "," << k + 1 << "," << genes.at(static_cast<size_t>(links[p][order[k]])) << ","
          << total[e0 + order[k]] / count << "\n";
    e0 += links[p].size();
  }
  apps::write_text_file(path, csv.str());
}

void write_soft_mask_changes(const std::string& path, const PerturbModel& network,
                             const std::vector<std::string>& genes, const std::vector<std::string>& pathways) {
  const nn::SparsePathwayAttention& layer = attention_of(network);
  const std::vector<float> gate = layer.gate().to_vector<float>();
  struct Change {
    std::string pathway, gene;
    bool added;
    float gate;
  };
  std::vector<Change> changes;
  size_t e = 0;
  const auto& links = layer.links();
  for (size_t p = 0; p < links.size(); ++p)
    for (int64_t g : links[p]) {
      const bool in_set = layer.in_set()[e] != 0;
      if (in_set ? gate[e] < 0.5f : gate[e] > 0.5f)
        changes.push_back({pathways.at(p), genes.at(static_cast<size_t>(g)), !in_set, gate[e]});
      ++e;
    }
  // Added links first, most open first; then removed ones, most closed first.
  std::stable_sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) {
    if (a.added != b.added) return a.added;
    return a.added ? a.gate > b.gate : a.gate < b.gate;
  });
  std::ostringstream csv;
  csv << "pathway,gene,change,gate\n";
  csv.precision(6);
  for (const Change& c : changes)
    csv << c.pathway << "," << c.gene << "," << (c.added ? "added" : "removed") << "," << c.gate << "\n";
  apps::write_text_file(path, csv.str());
}

}  // namespace cg::perturb
