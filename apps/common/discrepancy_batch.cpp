#include "apps/common/discrepancy_batch.h"

#include "apps/common/matrix_bridge.h"
#include "nn/losses.h"

namespace cg::perturb {

DiscrepancyBatch discrepancy_batch(const omics::DenseMatrix& X, const omics::DenseMatrix& C,
                                   const std::vector<int64_t>& rows, double weight) {
  DiscrepancyBatch d;
  d.weight = weight;
  std::vector<std::vector<int32_t>> by_column(static_cast<size_t>(C.cols()));
  for (size_t i = 0; i < rows.size(); ++i)
    for (int64_t k = 0; k < C.cols(); ++k)
      if (C(rows[i], k) > 0.5f) by_column[static_cast<size_t>(k)].push_back(static_cast<int32_t>(i));
  d.control = by_column.empty() ? std::vector<int32_t>{} : by_column[0];
  std::vector<int64_t> control_rows, perturbed_rows;
  for (int32_t i : d.control) control_rows.push_back(rows[static_cast<size_t>(i)]);
  for (int64_t k = 1; k < C.cols(); ++k) {
    const auto& positions = by_column[static_cast<size_t>(k)];
    if (positions.size() < 2) continue;
    d.perturbed.emplace_back(static_cast<int>(k), positions);
    for (int32_t i : positions) perturbed_rows.push_back(rows[static_cast<size_t>(i)]);
  }
  if (control_rows.size() >= 2 && !perturbed_rows.empty())
    d.bandwidths = nn::mmd_median_bandwidths(apps::to_tensor(apps::take_rows(X, control_rows)),
                                             apps::to_tensor(apps::take_rows(X, perturbed_rows)));
  return d;
}

}  // namespace cg::perturb
