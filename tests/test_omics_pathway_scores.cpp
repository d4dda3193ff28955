// The pathway score predict_perturbation reports (omics/pathway_scores.h) on an example small
// enough to compute by hand.
#include <doctest/doctest.h>

#include <cmath>

#include "omics/error.h"
#include "omics/pathway_scores.h"

using namespace cg::omics;

TEST_CASE("pathway scores: the mean response over each set's genes, ranked by magnitude") {
  const std::vector<double> delta = {1.0, 2.0, -4.0, 0.5};
  const std::vector<std::vector<int64_t>> members = {{0, 1}, {2}, {1, 3}, {}};
  const std::vector<double> s = pathway_scores(delta, members);
  REQUIRE(s.size() == 4);
  CHECK(s[0] == doctest::Approx(1.5));   // (1 + 2) / 2
  CHECK(s[1] == doctest::Approx(-4.0));  // a down-regulated set ranks by its size of change
  CHECK(s[2] == doctest::Approx(1.25));  // (2 + 0.5) / 2
  CHECK(std::isnan(s[3]));               // no genes: no score, ranked last
  CHECK(rank_by_magnitude(s) == std::vector<int64_t>{2, 1, 3, 4});

  SUBCASE("real vs predicted: Pearson over sets, table in real-rank order") {
    // Predicted response: the real one halved on gene 2 only. Scores 1.5, -2, 1.25.
    const std::vector<double> pred = {1.0, 2.0, -2.0, 0.5};
    const PathwayDiscrepancy d = pathway_discrepancy({"P1", "P2", "P3"}, {{0, 1}, {2}, {1, 3}}, delta, pred);
    CHECK(d.predicted[1] == doctest::Approx(-2.0));
    CHECK(d.real_rank == std::vector<int64_t>{2, 1, 3});
    CHECK(d.predicted_rank == std::vector<int64_t>{2, 1, 3});  // |-2| still the largest
    // Pearson of (1.5, -4, 1.25) and (1.5, -2, 1.25), by hand: means -0.41667 and 0.25;
    // centred (1.91667, -3.58333, 1.66667) and (1.25, -2.25, 1.0); dot 12.125; norms
    // sqrt(19.29167) and sqrt(7.625): r = 0.999717 (numpy.corrcoef agrees).
    CHECK(d.pearson == doctest::Approx(12.125 / std::sqrt(19.291667 * 7.625)).epsilon(1e-5));
    CHECK(discrepancy_csv(d) ==
          "pathway,genes,real_score,predicted_score,real_rank,predicted_rank\n"
          "P2,1,-4,-2,1,1\nP1,2,1.5,1.5,2,2\nP3,2,1.25,1.25,3,3\n");
  }
  SUBCASE("a gene index outside the response is an error, not a read past the end") {
    CHECK_THROWS_WITH_AS(pathway_scores(delta, {{0, 4}}), doctest::Contains("gene index 4 outside the 4 genes"),
                         DataError);
  }
}
