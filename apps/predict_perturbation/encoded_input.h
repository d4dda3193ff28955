#pragma once
// --preprocess rank|rank-top100|bins: the rank-value encodings (omics/input_encoding.h) as the
// perturbation models' data. The models predict expression, so the encoding cannot stop at
// their input: a model trained on encoded control cells can only predict encoded cells, and a
// prediction in one space scored against real cells in another means nothing. So every cell is
// encoded, controls and perturbed alike: the models learn, predict and are scored in the encoded
// space (R² of per-gene means of encoded values, DEGs between encoded groups, ...), and the
// tables say so. What is compared across --preprocess values is then how predictable the
// response is in each representation, not the same number on the same scale. The encoding is
// computed on the log-normalised matrix the models would otherwise see (after --n-top-genes, so
// a cell's ranks are among the model's genes); rank's gene medians come from the training cells
// of each held-out split (benchmark, dose) or of `train`, and a saved model keeps them.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/common/expression_input.h"
#include "apps/predict_perturbation/data.h"
#include "omics/input_encoding.h"

namespace cg::perturb {

// none, log1p, then the encodings' names.
const std::vector<std::string>& preprocess_names();
// An error naming `flag`, the value and every known name, unless `preprocess` is one of them.
void check_preprocess(const std::string& preprocess, const std::string& flag);
bool is_encoding(const std::string& preprocess);

// How the file is read for `preprocess`: none and log1p as they are; an encoding reads
// log-normalised values, normalising integer counts first (with a note) since it needs them
// either way.
apps::ExpressionOptions reading_options(const std::string& preprocess, const std::string& layer, bool use_raw,
                                        bool allow_counts);

// Fits `preprocess` (an encoding) on the rows `train_rows` of d.X and replaces d.X by every
// cell's encoding; cells with nothing to encode are a warning naming them. Returns the fit.
omics::InputEncoding encode_cells(PerturbData& d, const std::string& preprocess,
                                  const std::vector<int64_t>& train_rows);
// Applies a fitted encoding to X (cells x the genes it was fitted on), in place; `cell_names`
// and `what` name the cells and data in the warning about cells with nothing to encode.
void apply_encoding(const omics::InputEncoding& e, omics::DenseMatrix& X, const std::vector<std::string>& cell_names,
                    const std::string& what);

// One sentence for a table's preface: what the scored values are under `preprocess` ("" for
// none and log1p).
std::string encoded_space_note(const std::string& preprocess);

// model.json's "encoding" entry, and back (errors name `where`).
nlohmann::json encoding_to_json(const omics::InputEncoding& e);
omics::InputEncoding encoding_from_json(const nlohmann::json& j, size_t genes, const std::string& where);

}  // namespace cg::perturb
