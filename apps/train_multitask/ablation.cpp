#include "apps/train_multitask/ablation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "apps/train_multitask/schedules.h"
#include "autograd/error.h"
#include "base/registry.h"
#include "base/text.h"
#include "nn/loss_weighting.h"

namespace cg::multitask {

const std::vector<AblationPart>& ablation_parts() {
  static const std::vector<AblationPart> parts = [] {
    std::vector<AblationPart> p = {
        {"multitask", "the base configuration unchanged", [](Config&) {}},
        {"translation_only", "no classifier (--no-classifier)", [](Config& c) { c.no_classifier = true; }},
        {"classification_only", "no translation terms (--no-translation)", [](Config& c) { c.no_translation = true; }},
        {"discriminator", "discriminators on", [](Config& c) { c.no_discriminator = false; }},
        {"no_discriminator", "discriminators off (--no-discriminator)", [](Config& c) { c.no_discriminator = true; }},
        {"no_contrastive", "contrastive term off (--no-contrastive)", [](Config& c) { c.no_contrastive = true; }},
        {"no_reconstruction", "reconstruction term off (--no-reconstruction)",
         [](Config& c) { c.no_reconstruction = true; }},
        {"vae", "Gaussian latents with a KL term (--vae)", [](Config& c) { c.vae = true; }},
    };
    for (const auto& w : nn::loss_weightings())
      p.push_back({w.name, "--weighting " + w.name, [name = w.name](Config& c) { c.weighting = name; }});
    for (const auto& sc : schedules())
      p.push_back({sc.name, std::string("--schedule ") + sc.name,
                   [name = std::string(sc.name)](Config& c) { c.schedule = name; }});
    return p;
  }();
  return parts;
}

std::string ablation_parts_help() {
  std::string out;
  for (const auto& p : ablation_parts()) out += "\n  " + p.name + ": " + p.description;
  return out;
}

Config apply_variant(const Config& base, const std::string& variant) {
  Config c = base;
  c.ablation.clear();
  std::stringstream ss(variant);
  std::string part;
  while (std::getline(ss, part, '+')) {
    find_named(ablation_parts(), part, "--ablation: unknown variant").apply(c);
  }
  c.validate();
  return c;
}

namespace {

// Every number of a metrics.json as a flat "a.b" key, with per-feature details left out.
void flatten(const nlohmann::json& j, const std::string& prefix, std::map<std::string, double>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "r2_per_feature" || it.key() == "chosen") continue;  // details, not table columns
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    }
  } else if (j.is_number()) {
    out[prefix] = j.get<double>();
  } else if (j.is_null()) {
    out[prefix] = NAN;
  }
}

std::string fmt(double v, int digits = 3) {
  if (!std::isfinite(v)) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

}  // namespace

ComparisonTable comparison_table(const std::vector<VariantResult>& results) {
  // Columns: every translation metric, then classification, then time (the union over variants).
  std::vector<std::string> columns;
  std::map<std::string, bool> seen;
  std::vector<std::map<std::string, std::vector<double>>> values(results.size());
  for (size_t v = 0; v < results.size(); ++v)
    for (const auto& m : results[v].per_split) {
      std::map<std::string, double> flat;
      flatten(m, "", flat);
      for (const auto& [k, x] : flat) values[v][k].push_back(x);
    }
  auto add_columns = [&](const std::string& prefix) {
    for (const auto& vals : values)
      for (const auto& [k, x] : vals)
        if (k.rfind(prefix, 0) == 0 && !seen[k]) {
          seen[k] = true;
          columns.push_back(k);
        }
  };
  add_columns("translation.");
  add_columns("classification.");
  add_columns("train_seconds");
  add_columns("best_epoch");

  auto stats = [](const std::vector<double>& xs) {
    double s = 0, s2 = 0;
    int n = 0;
    for (double x : xs)
      if (std::isfinite(x)) {
        s += x;
        s2 += x * x;
        ++n;
      }
    const double mean = n ? s / n : NAN;
    const double sd = n > 1 ? std::sqrt(std::max(0.0, (s2 - n * mean * mean) / (n - 1))) : NAN;
    return std::make_pair(mean, sd);
  };
  std::ostringstream md, csv;
  csv.precision(8);
  md << "| variant | splits";
  csv << "variant,splits";
  for (const auto& col : columns) {
    std::string short_name = col;
    for (const char* p : {"translation.", "classification."})
      if (short_name.rfind(p, 0) == 0) short_name = short_name.substr(std::string(p).size());
    md << " | " << short_name;
    csv << "," << col << "_mean," << col << "_sd";
  }
  md << " |\n|---|---";
  for (size_t i = 0; i < columns.size(); ++i) md << "|---";
  md << "|\n";
  csv << "\n";
  for (size_t v = 0; v < results.size(); ++v) {
    md << "| " << results[v].variant << " | " << results[v].per_split.size();
    csv << results[v].variant << "," << results[v].per_split.size();
    for (const auto& col : columns) {
      const auto it = values[v].find(col);
      const auto [mean, sd] = it == values[v].end() ? std::make_pair(double(NAN), double(NAN)) : stats(it->second);
      const bool time = col == "train_seconds" || col == "best_epoch";
      md << " | " << fmt(mean, time ? 1 : 3);
      if (std::isfinite(sd)) md << " ± " << fmt(sd, time ? 1 : 3);
      csv << "," << mean << "," << sd;
    }
    md << " |\n";
    csv << "\n";
  }
  return {md.str(), csv.str()};
}

}  // namespace cg::multitask
