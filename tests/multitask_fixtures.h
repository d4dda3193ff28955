#pragma once
// Small synthetic modalities for train_multitask's app tests.
#include <string>
#include <vector>

#include "omics/anndata.h"

namespace cg::test::multitask {

// A small dense modality: `names` as cells, deterministic values, an obs column "type" cycling
// through `types` classes; the first `constant_features` features are constant; features are
// named <prefix>0, <prefix>1, ...
inline void write_modality(const std::string& path, std::vector<std::string> names, int features, int types,
                           int constant_features = 0, const std::string& prefix = "f") {
  cg::omics::AnnData a;
  const int64_t n = static_cast<int64_t>(names.size());
  cg::omics::DenseMatrix x(n, features);
  for (int64_t i = 0; i < n; ++i)
    for (int j = 0; j < features; ++j)
      x(i, j) = j < constant_features ? 1.0f : static_cast<float>((i * 7 + j * 3) % 11) / 5.0f;
  a.X = cg::omics::Matrix::from(x);
  a.obs.index = names;
  std::vector<std::string> t;
  for (int64_t i = 0; i < n; ++i) t.push_back("type" + std::to_string(i % types));
  a.obs.set("type", cg::omics::Column::categorical(t));
  for (int j = 0; j < features; ++j) a.var.index.push_back(prefix + std::to_string(j));
  cg::omics::write_h5ad(path, a);
}

// Cell names c0, c1, ...
inline std::vector<std::string> cell_names(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("c" + std::to_string(i));
  return v;
}

}  // namespace cg::test::multitask
