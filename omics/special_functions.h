#pragma once
// The few distribution tails the DEG tests need (scipy.stats equivalents), in double.
namespace cg::omics {

// P(Z > z) for a standard normal (scipy.stats.norm.sf).
double normal_sf(double z);
// Two-sided P(|T| > |t|) for Student's t with df degrees of freedom (df may be fractional,
// as in Welch's test). NaN when t or df is NaN or df <= 0.
double student_t_two_sided_p(double t, double df);
// Regularized incomplete beta I_x(a, b); y = 1 - x is passed separately so that x close to 1
// keeps its precision.
double incomplete_beta(double a, double b, double x, double y);

}  // namespace cg::omics
