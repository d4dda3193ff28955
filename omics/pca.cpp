#include "omics/pca.h"

#include <Eigen/Eigenvalues>
#include <cmath>
#include <string>

#include "omics/error.h"

namespace cg::omics {

PcaModel pca_fit(const DenseMatrix& x, int k) {
  const Eigen::Index n = x.rows(), g = x.cols();
  if (k < 1 || k > std::min(n, g))
    throw DataError("pca_fit: need 1 <= k <= min(cells, features) = " + std::to_string(std::min(n, g)) +
                    ", got k = " + std::to_string(k));
  if (n < 2) throw DataError("pca_fit: need at least 2 cells");
  PcaModel m;
  const Eigen::RowVectorXd mu = x.cast<double>().colwise().mean();
  const DenseMatrixD xc = x.cast<double>().rowwise() - mu;
  m.mean.assign(mu.data(), mu.data() + g);

  Eigen::MatrixXd v(g, k);    // columns = components
  Eigen::VectorXd lambda(k);  // squared singular values, descending
  if (n <= g) {
    const Eigen::MatrixXd gram = xc * xc.transpose();
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(gram);
    const Eigen::VectorXd& ev = es.eigenvalues();  // ascending
    const double tol = std::max(ev[n - 1], 0.0) * 1e-12 * double(n);
    for (int j = 0; j < k; ++j) {
      lambda[j] = ev[n - 1 - j];
      if (!(lambda[j] > tol))
        throw DataError("pca_fit: the centered data has rank " + std::to_string(j) + " < k = " + std::to_string(k));
      // v = X^T u / s
      v.col(j) = xc.transpose() * es.eigenvectors().col(n - 1 - j) / std::sqrt(lambda[j]);
    }
  } else {
    const Eigen::MatrixXd cov = xc.transpose() * xc;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(cov);
    const Eigen::VectorXd& ev = es.eigenvalues();
    const double tol = std::max(ev[g - 1], 0.0) * 1e-12 * double(g);
    for (int j = 0; j < k; ++j) {
      lambda[j] = ev[g - 1 - j];
      if (!(lambda[j] > tol))
        throw DataError("pca_fit: the centered data has rank " + std::to_string(j) + " < k = " + std::to_string(k));
      v.col(j) = es.eigenvectors().col(g - 1 - j);
    }
  }
  // Fix each component's sign so results do not depend on the eigen solver.
  for (int j = 0; j < k; ++j) {
    Eigen::Index arg = 0;
    for (Eigen::Index i = 1; i < g; ++i)
      if (std::abs(v(i, j)) > std::abs(v(arg, j))) arg = i;
    if (v(arg, j) < 0) v.col(j) *= -1.0;
  }
  m.components = v.transpose();
  const double total = xc.squaredNorm() / double(n - 1);
  for (int j = 0; j < k; ++j) {
    m.explained_variance.push_back(lambda[j] / double(n - 1));
    m.explained_variance_ratio.push_back(total > 0 ? lambda[j] / double(n - 1) / total : 0.0);
  }
  return m;
}

DenseMatrixD pca_transform(const PcaModel& model, const DenseMatrix& x) {
  const auto g = static_cast<Eigen::Index>(model.mean.size());
  if (x.cols() != g)
    throw DataError("pca_transform: model was fit on " + std::to_string(g) + " features, matrix has " +
                    std::to_string(x.cols()));
  const Eigen::Map<const Eigen::RowVectorXd> mu(model.mean.data(), g);
  const DenseMatrixD xc = x.cast<double>().rowwise() - mu;
  return xc * model.components.transpose();
}

}  // namespace cg::omics
