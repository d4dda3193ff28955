#pragma once
// Per-gene (column) mean and variance in double, as scanpy's _get_mean_var computes them:
// the variance is unbiased (ddof = 1). Optionally on expm1(x) (HVG on log data).
#include <vector>

#include "omics/matrix.h"

namespace cg::omics {

struct GeneMeanVar {
  std::vector<double> mean, var;
};

GeneMeanVar gene_mean_var(const CsrMatrix& x, bool expm1_first = false);
GeneMeanVar gene_mean_var(const DenseMatrix& x, bool expm1_first = false);

// Column means in double (the building block of R^2 of means and DEG fold changes).
std::vector<double> column_means(const DenseMatrix& x);
std::vector<double> column_means(const CsrMatrix& x);

}  // namespace cg::omics
