#include "omics/pca_randomized.h"

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "omics/error.h"
#include "omics/rng.h"

namespace cg::omics {
namespace {

using ColMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// An orthonormal basis of the columns of y (rows x l), in double through Householder QR.
ColMatrix orthonormal(const ColMatrix& y) {
  const Eigen::MatrixXd yd = y.cast<double>();
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(yd);
  const Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(yd.rows(), yd.cols());
  return q.cast<float>();
}

// c (m x n) = op(a) op(b), row-major, through the engine's GEMM.
void product(bool ta, bool tb, const ColMatrix& a, const ColMatrix& b, ColMatrix& c) {
  const int64_t m = ta ? a.cols() : a.rows(), k = ta ? a.rows() : a.cols(), n = tb ? b.rows() : b.cols();
  c.resize(m, n);
  kernels::cpu::gemm<float>(ta, tb, m, n, k, 1.0f, a.data(), b.data(), 0.0f, c.data());
}

}  // namespace

PcaModel pca_fit_randomized(const DenseMatrix& x, int k, uint64_t seed, int oversample, int power_iterations) {
  const int64_t n = x.rows(), g = x.cols();
  if (k < 1 || k > std::min(n, g))
    throw DataError("pca_fit_randomized: need 1 <= k <= min(cells, features) = " + std::to_string(std::min(n, g)) +
                    ", got k = " + std::to_string(k));
  if (n < 2) throw DataError("pca_fit_randomized: need at least 2 cells");
  const int64_t l = std::min<int64_t>(std::min(n, g), k + std::max(0, oversample));
  PcaModel m;
  // Row by row, so that no double copy of a large matrix is made.
  std::vector<double> mu(static_cast<size_t>(g), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < g; ++j) mu[static_cast<size_t>(j)] += x(i, j);
  for (double& v : mu) v /= double(n);
  m.mean = mu;
  ColMatrix xc(n, g);
  double total_ss = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < g; ++j) {
      const double c = double(x(i, j)) - mu[static_cast<size_t>(j)];
      xc(i, j) = static_cast<float>(c);
      total_ss += c * c;
    }
  // Gaussian sketch (Box-Muller on splitmix64, so the same seed gives the same basis anywhere).
  SplitMix64 rng(seed);
  auto uniform = [&] { return (double(rng.next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); };
  ColMatrix omega(g, l);
  for (int64_t i = 0; i < omega.size(); ++i)
    omega.data()[i] = static_cast<float>(std::sqrt(-2 * std::log(uniform())) * std::cos(2 * M_PI * uniform()));
  ColMatrix y, z;
  product(false, false, xc, omega, y);  // n x l
  ColMatrix q = orthonormal(y);
  for (int it = 0; it < power_iterations; ++it) {
    product(true, false, xc, q, z);  // g x l
    const ColMatrix qz = orthonormal(z);
    product(false, false, xc, qz, y);
    q = orthonormal(y);
  }
  ColMatrix b;
  product(true, false, q, xc, b);  // l x g: B = Q^T Xc
  // B = U S V^T from the eigen-decomposition of B B^T (l x l), in double.
  const Eigen::MatrixXd bd = b.cast<double>();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(bd * bd.transpose());
  const Eigen::VectorXd& ev = es.eigenvalues();  // ascending
  const double tol = std::max(ev[l - 1], 0.0) * 1e-10 * double(l);
  Eigen::MatrixXd v(g, k);
  Eigen::VectorXd lambda(k);
  for (int j = 0; j < k; ++j) {
    lambda[j] = ev[l - 1 - j];
    if (!(lambda[j] > tol))
      throw DataError("pca_fit_randomized: the centered data has rank " + std::to_string(j) + " < k = " +
                      std::to_string(k));
    v.col(j) = bd.transpose() * es.eigenvectors().col(l - 1 - j) / std::sqrt(lambda[j]);
  }
  for (int j = 0; j < k; ++j) {  // pca_fit's sign convention: largest |loading| positive
    Eigen::Index arg = 0;
    for (Eigen::Index i = 1; i < g; ++i)
      if (std::abs(v(i, j)) > std::abs(v(arg, j))) arg = i;
    if (v(arg, j) < 0) v.col(j) *= -1.0;
  }
  m.components = v.transpose();
  const double total = total_ss / double(n - 1);
  for (int j = 0; j < k; ++j) {
    m.explained_variance.push_back(lambda[j] / double(n - 1));
    m.explained_variance_ratio.push_back(total > 0 ? lambda[j] / double(n - 1) / total : 0.0);
  }
  return m;
}

}  // namespace cg::omics
