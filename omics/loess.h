#pragma once
// Local polynomial regression (Cleveland's loess, "direct" surface, gaussian family), used by
// the Seurat v3 highly-variable-gene flavor to fit log10(variance) against log10(mean).
#include <vector>

namespace cg::omics {

// Fitted values at the input points. For each x0 the q = floor(span * n) nearest points
// (counting x0 itself) get tricube weights (1 - (d/h)^3)^3, h = the largest of those q
// distances, and a weighted least-squares polynomial of the given degree (0..2) in (x - x0)
// is evaluated at x0. This is what skmisc.loess(span, degree) computes with
// surface='direct'; scanpy calls skmisc with its default surface='interpolate' (k-d tree
// vertices + cubic blending), which approximates these values to ~1e-3, so HVG selections
// can differ for genes whose normalized variance sits right at the cut-off.
std::vector<double> loess_fit(const std::vector<double>& x, const std::vector<double>& y, double span = 0.3,
                              int degree = 2);

}  // namespace cg::omics
