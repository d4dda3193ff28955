// predict_perturbation's per-network recipes: every network trains with its own published
// settings, a training flag replaces a setting only where given (and only for the networks that
// take it), config.json holds every trained network's resolved recipe and reproduces the run;
// the thesis's variants (mtae-adv, mtvae, mtae-fast) train and log their own terms; the table
// shows the spread over seeds and compares each model with the shift baseline.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/predict_perturbation_fixtures.h"

using cg::test::TempDir;
using cg::test::read_json;
using namespace cg::test::perturb;

namespace {

// A markdown table without its "train s" column (wall time: differs between equal runs under load).
std::string without_train_seconds(const std::string& table) {
  std::istringstream in(table);
  std::string line, out;
  int drop = -1;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::istringstream row(line);
    for (std::string cell; std::getline(row, cell, '|');) cells.push_back(cell);
    if (drop < 0)
      for (size_t i = 0; i < cells.size(); ++i)
        if (cells[i] == " train s ") drop = static_cast<int>(i);
    if (drop >= 0 && static_cast<size_t>(drop) < cells.size()) cells.erase(cells.begin() + drop);
    for (const auto& c : cells) out += c + "|";
    out += "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("predict_perturbation recipes: each network's own settings, flags override where given, config.json "
          "reproduces the run") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), out = tmp.file("run");
  write_data(data, standard_cells());
  const Result r = run(tmp, base_args(data, out, "A", "scgen,mtae,shift") + " --epochs 2 --lr 0.002 --latent 4");
  REQUIRE_MESSAGE(r.code == 0, r.output);
  const nlohmann::json cfg = read_json(out + "/config.json");
  const nlohmann::json& ms = cfg["model_settings"];
  // Given flags reach both networks; the rest are each network's own.
  CHECK(ms["scgen"]["lr"] == 0.002);
  CHECK(ms["mtae"]["lr"] == 0.002);
  CHECK(ms["scgen"]["epochs"] == 2);
  CHECK(ms["mtae"]["epochs"] == 2);
  CHECK(ms["scgen"]["batch_size"] == 32);
  CHECK(ms["mtae"]["batch_size"] == 64);
  CHECK(ms["scgen"]["dropout"] == 0.2);
  CHECK(ms["mtae"]["dropout"] == 0.5);
  CHECK(ms["mtae"]["input_dropout"] == 0.2);
  CHECK(ms["mtae"]["warmup_steps"] == 100);
  CHECK(ms["mtae"]["patience"] == 0);  // the thesis's fixed budget
  CHECK(ms["scgen"]["patience"] == 25);
  CHECK(ms["scgen"]["alpha"] == 5e-5);
  CHECK(ms["scgen"]["hidden"] == nlohmann::json({800, 800}));
  CHECK(ms["mtae"]["hidden"] == nlohmann::json({256}));
  CHECK_FALSE(ms["mtae"].contains("alpha"));  // only the settings a network takes
  CHECK_FALSE(ms.contains("mtvae"));          // only the networks the run trained
  CHECK(cfg["lr"] == 0.002);                  // the flag as given
  CHECK(cfg["batch_size"].is_null());         // not given: each network's own

  // A model_settings entry changes one network only; the flags still win over it.
  std::ofstream(tmp.file("cfg.json")) << R"({"model_settings": {"mtae": {"batch_size": 16, "lr": 0.5}}})";
  const Result r2 = run(tmp, "--config " + tmp.file("cfg.json") + " " + base_args(data, tmp.file("run2"), "A", "scgen,mtae") +
                                 " --epochs 1 --lr 0.003 --latent 4");
  REQUIRE_MESSAGE(r2.code == 0, r2.output);
  const nlohmann::json ms2 = read_json(tmp.file("run2/config.json"))["model_settings"];
  CHECK(ms2["mtae"]["batch_size"] == 16);
  CHECK(ms2["scgen"]["batch_size"] == 32);
  CHECK(ms2["mtae"]["lr"] == 0.003);

  // config.json given back trains the same networks: the same table.
  const Result again = run(tmp, "--config " + out + "/config.json --out " + tmp.file("again"));
  REQUIRE_MESSAGE(again.code == 0, again.output);
  CHECK(without_train_seconds(read_text(tmp.file("again/table.md"))) == without_train_seconds(read_text(out + "/table.md")));
  CHECK(read_text(out + "/table.md").find(" train s ") != std::string::npos);  // the column the comparison drops
  CHECK(read_json(tmp.file("again/config.json"))["model_settings"] == ms);

  // A flag some chosen networks do not take: a note naming them, the run goes on.
  const Result note = run(tmp, base_args(data, tmp.file("run3"), "A", "scgen,mtae") + " --epochs 1 --alpha 0.001");
  REQUIRE_MESSAGE(note.code == 0, note.output);
  CHECK_MESSAGE(contains(note.output, "--alpha: mtae do not take it; it applies to scgen"), note.output);
  CHECK(read_json(tmp.file("run3/config.json"))["model_settings"]["scgen"]["alpha"] == 0.001);
}

TEST_CASE("predict_perturbation: mtae-adv, mtvae and mtae-fast train with their own terms and predict") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), out = tmp.file("run");
  write_data(data, standard_cells());
  const Result r = run(tmp, base_args(data, out, "A", "mtae-adv,mtvae,mtae-fast,shift") + " --epochs 3 --latent 4");
  REQUIRE_MESSAGE(r.code == 0, r.output);
  const std::string adv = read_text(out + "/A/mtae-adv/seed0/history.csv");
  CHECK_MESSAGE(contains(adv, "train_adversarial"), adv);
  CHECK_MESSAGE(contains(adv, "train_discriminator"), adv);
  CHECK_MESSAGE(contains(read_text(out + "/A/mtvae/seed0/history.csv"), "train_kl"), "mtvae logs its KL term");
  const std::string fast = read_text(out + "/A/mtae-fast/seed0/history.csv");
  CHECK_FALSE(contains(fast, "train_kl"));
  const nlohmann::json ms = read_json(out + "/config.json")["model_settings"];
  CHECK(ms["mtae-adv"]["adversarial"] == 0.05);
  CHECK(ms["mtvae"]["alpha"] == 0.017);
  CHECK(ms["mtae-fast"]["lr"] == 0.001);
  CHECK(ms["mtae-fast"]["dropout"] == 0.0);
  for (const std::string model : {"mtae-adv", "mtvae", "mtae-fast"}) {
    INFO(model);
    const auto p = cg::omics::read_h5ad(out + "/A/" + model + "/seed0/predicted.h5ad");
    CHECK(p.X.rows() == 12);
    const nlohmann::json m = read_json(out + "/A/" + model + "/seed0/metrics.json");
    CHECK(std::isfinite(m["r2_all"].get<double>()));
  }
}

TEST_CASE("predict_perturbation table: spread over seeds and the verdict against the shift baseline") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("d.h5ad"), out = tmp.file("run");
  write_data(data, standard_cells());
  const Result r = run(tmp, "--data " + data + " --models scgen,control,shift --held-out A --seeds 0,1" +
                                " --device cpu --bootstrap 2 --pca-components 2 --top-degs 5 --epochs 2 --latent 4 --out " +
                                out);
  REQUIRE_MESSAGE(r.code == 0, r.output);
  const std::string md = read_text(out + "/table.md"), csv = read_text(out + "/table.csv");
  CHECK(contains(md, "| R2 all | (seed sd) |"));
  CHECK(contains(md, "| vs shift R2 all | vs shift R2 top |"));
  CHECK(contains(csv, ",r2_all_seed_sd,"));
  CHECK(contains(csv, ",vs_shift_r2_all,vs_shift_r2_top,decode\n"));
  // Recompute scgen's verdict from its two seeds' metrics and shift's.
  auto r2 = [&](const std::string& model, int seed) {
    return read_json(out + "/A/" + model + "/seed" + std::to_string(seed) + "/metrics.json")["r2_all"].get<double>();
  };
  const double a = r2("scgen", 0), b = r2("scgen", 1), shift = r2("shift", 0);
  CHECK(r2("shift", 1) == shift);  // the baseline does not depend on the seed
  const double mean = (a + b) / 2, sd = std::abs(a - b) / std::sqrt(2.0);
  const double d = mean - shift;
  const std::string word = d > sd ? " beats" : d < -sd ? " loses" : " within spread";
  char expected[64];
  std::snprintf(expected, sizeof expected, "%+.3f", d);
  INFO(md);
  CHECK(contains(md, std::string(expected) + word + " |"));
  // The baselines carry no verdict of their own.
  const auto at = md.find("| shift | A |");
  REQUIRE(at != std::string::npos);
  const std::string shift_row = md.substr(at, md.find('\n', at) - at);
  CHECK(contains(shift_row, "|  |  |"));
}

TEST_CASE("predict_perturbation --held-out-dose: a dose never seen is predicted from the controls by scaling the "
          "largest dose's response; models that cannot interpolate and non-numeric doses are refused") {
  if (!have_binary()) return;
  TempDir tmp;
  const std::string data = tmp.file("dose.h5ad"), out = tmp.file("run");
  // One population, doses 0 (control), 1 and 3; the first 5 genes respond by exactly
  // 0.9 * log1p(dose) / log1p(3), the rule being tested; every group has the same within-group
  // pattern (12 consecutive cells), so the group means differ by the response only.
  const ValueFn dosed = [](int64_t i, int j, const std::string&, const std::string& dose) {
    const float base = 0.1f + static_cast<float>(((i % 12) * 7 + j * 5) % 15) / 7.0f;
    const double d = std::stod(dose);
    return base + (j < 5 ? static_cast<float>(0.9 * std::log1p(d) / std::log1p(3.0)) : 0.0f);
  };
  write_data(data, groups({"A"}, {"0", "1", "3"}, 12), dosed);
  const std::string args = "--data " + data + " --condition-key condition --control 0 --cell-type-key '' " + kCheap;
  const Result r = run(tmp, args + " --held-out-dose 1 --models shift,control,vidr --epochs 2 --latent 4 --out " + out);
  REQUIRE_MESSAGE(r.code == 0, r.output);
  const nlohmann::json shift = read_json(out + "/dose_1/shift/seed0/metrics.json");
  CHECK(shift["dose_scale"].get<double>() == doctest::Approx(std::log1p(1.0) / std::log1p(3.0)).epsilon(1e-12));
  CHECK(shift["r2_all"].get<double>() > 0.9999);  // the rule is the data's: the real mean, exactly
  const nlohmann::json control = read_json(out + "/dose_1/control/seed0/metrics.json");
  CHECK(control["r2_all"].get<double>() < shift["r2_all"].get<double>());
  CHECK(read_json(out + "/dose_1/vidr/seed0/metrics.json")["dose_scale"].get<double>() ==
        doctest::Approx(std::log1p(1.0) / std::log1p(3.0)).epsilon(1e-12));
  CHECK(cg::omics::read_h5ad(out + "/dose_1/shift/seed0/predicted.h5ad").X.rows() == 12);  // one per control cell
  CHECK(contains(read_text(out + "/table.md"), "learned at dose 3 and scaled by log1p(dose) / log1p(largest dose)"));

  check_refused(run(tmp, args + " --held-out-dose 1 --models scgen,shift --out " + out + "2"), out + "2",
                {"--held-out-dose: scgen cannot predict a dose it has not seen", "interpolate doses: vidr, control, shift"});
  check_refused(run(tmp, args + " --held-out-dose 2 --models shift --out " + out + "2"), out + "2",
                {"--held-out-dose 2: obs 'condition' has no such dose; doses present: 0, 1, 3"});
  write_data(tmp.file("words.h5ad"), standard_cells());
  check_refused(run(tmp, "--data " + tmp.file("words.h5ad") + " --held-out-dose 1 --models shift" + kCheap +
                             " --out " + out + "3"),
                out + "3", {"--held-out-dose needs doses in obs 'condition' (numbers >= 0), found the value"});
}
