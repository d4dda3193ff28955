#include "apps/predict_perturbation/encoded_input.h"

#include <cmath>

#include "apps/common/matrix_bridge.h"
#include "apps/common/run_notes.h"
#include "autograd/error.h"
#include "base/text.h"

namespace cg::perturb {

const std::vector<std::string>& preprocess_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n = {"none", "log1p"};
    for (const auto& e : omics::input_encodings()) n.push_back(e.name);
    return n;
  }();
  return names;
}

bool is_encoding(const std::string& preprocess) { return omics::is_input_encoding(preprocess); }

void check_preprocess(const std::string& preprocess, const std::string& flag) {
  for (const auto& n : preprocess_names())
    if (n == preprocess) return;
  throw Error(flag + ": unknown value '" + preprocess + "' (expected one of: " + join(preprocess_names()) + ")");
}

apps::ExpressionOptions reading_options(const std::string& preprocess, const std::string& layer, bool use_raw,
                                        bool allow_counts) {
  apps::ExpressionOptions o;
  o.layer = layer;
  o.use_raw = use_raw;
  o.allow_counts = allow_counts;
  o.preprocess = is_encoding(preprocess) ? "none" : preprocess;
  o.normalise_counts = is_encoding(preprocess);
  return o;
}

void apply_encoding(const omics::InputEncoding& e, omics::DenseMatrix& X, const std::vector<std::string>& cell_names,
                    const std::string& what) {
  omics::EncodedCells enc = omics::apply_input_encoding(e, omics::CsrMatrix::from_dense(X), what);
  if (!enc.empty_cells.empty())
    apps::warn(what + ": " + std::to_string(enc.empty_cells.size()) + " of " + std::to_string(X.rows()) +
               " cells have nothing to encode under --preprocess " + e.name + " (" +
               omics::describe_cells(enc.empty_cells, cell_names) + "): no nonzero value" +
               (e.name == "rank" ? " in a gene expressed in the training cells" : "") + "; they are encoded as zeros");
  X = enc.x.to_dense();
}

omics::InputEncoding encode_cells(PerturbData& d, const std::string& preprocess,
                                  const std::vector<int64_t>& train_rows) {
  // The matrix is log1p of normalised counts by now (read_expression made sure of it).
  const omics::InputEncoding e = omics::fit_input_encoding(
      preprocess, omics::CsrMatrix::from_dense(apps::take_rows(d.X, train_rows)), true, "--preprocess " + preprocess);
  apply_encoding(e, d.X, d.cell_names, "--preprocess " + preprocess);
  return e;
}

std::string encoded_space_note(const std::string& preprocess) {
  if (!is_encoding(preprocess)) return "";
  return "Values: --preprocess " + preprocess + " (" +
         omics::input_encoding_named(preprocess, "--preprocess").description +
         "): every cell is encoded, so the models learn, predict and are scored in the encoded space; R², logFC, "
         "DEGs and distances are of encoded values, not log1p expression, and compare with a log1p run only as how "
         "predictable the response is in each representation.";
}

nlohmann::json encoding_to_json(const omics::InputEncoding& e) {
  nlohmann::json j = {{"name", e.name}, {"input", e.log_input ? "log1p" : "counts"}};
  if (e.name == "rank") j["gene_medians"] = e.medians;
  return j;
}

omics::InputEncoding encoding_from_json(const nlohmann::json& j, size_t genes, const std::string& where) {
  omics::InputEncoding e;
  try {
    e.name = j.at("name").get<std::string>();
    e.log_input = j.at("input").get<std::string>() == "log1p";
    if (e.name == "rank") e.medians = j.at("gene_medians").get<std::vector<double>>();
  } catch (const nlohmann::json::exception&) {
    throw Error(where + ": 'encoding' needs name, input (log1p or counts) and, for rank, gene_medians (numbers)");
  }
  omics::input_encoding_named(e.name, where + ": 'encoding' names an unknown encoding");
  if (e.name == "rank" && e.medians.size() != genes)
    throw Error(where + ": 'encoding' holds " + std::to_string(e.medians.size()) + " gene medians for " +
                std::to_string(genes) + " genes");
  for (double m : e.medians)
    if (!(m >= 0) || !std::isfinite(m))
      throw Error(where + ": 'encoding' holds a gene median that is not a number >= 0");
  return e;
}

}  // namespace cg::perturb
