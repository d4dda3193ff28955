#pragma once
// The per-modality output distributions of train_multitask (--distance NAME=...), registered once:
// name, one-line description, how many decoder outputs each feature needs and whether the
// modality must hold raw counts. Every model (unitednet, mlp, scbutterfly) decodes a modality
// through the same loss and the same prediction, so a likelihood is one entry here.
//
// Count likelihoods (nb, zinb) follow scVI: the decoder's first G outputs are per-gene logits,
// rho = softmax over genes, the mean is mu = rho * library (the cell's total of raw counts over
// the model's features), theta = exp(log_theta) is learned per gene; zinb's next G outputs are
// the zero-inflation logits. The loss is the negative log-likelihood of the raw counts, averaged
// over genes (so that its size is comparable to the per-feature MSE or BCE of other modalities),
// then over cells. The model's input stays the preprocessed matrix (--preprocess).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "autograd/rng.h"
#include "autograd/tensor.h"
#include "nn/module.h"
#include "omics/matrix.h"

namespace cg::multitask {

struct Dataset;
struct ModalityPreprocessing;

enum class OutputKind { Mse, Bce, Nb, Zinb };

struct LikelihoodInfo {
  const char* name;
  const char* description;
  OutputKind kind;
  int64_t outputs_per_feature;  // decoder outputs per feature (zinb: mean logits and dropout logits)
  bool counts;                  // needs raw non-negative integer counts
};

const std::vector<LikelihoodInfo>& likelihoods();
const LikelihoodInfo& likelihood(const std::string& name);  // throws listing the known names

// The learned dispersion of a count modality and the training cells' mean library size (the
// library a translation uses: a target modality's own total is unknown when it is predicted).
class CountParameters : public nn::Module {
 public:
  CountParameters(int64_t features, double mean_library);
  Tensor log_theta;  // [1, G]
  Tensor library;    // [1, 1] buffer: mean over training cells of the raw-count total
};

// The loss of one modality's raw decoder output `out` against the batch: `x` (the preprocessed
// values; mse, bce) or `counts` and `library` ([n, 1]; nb, zinb).
Tensor output_loss(const LikelihoodInfo& l, const Tensor& out, const Tensor& x, const Tensor& counts,
                   const Tensor& library, CountParameters* cp);
// What a model predicts from a raw decoder output: the value (mse), the probability (bce), the
// mean count rho * (training mean library) (nb, zinb: the NB mean, as scVI's normalized
// expression, without the zero-inflation).
Tensor output_prediction(const LikelihoodInfo& l, const Tensor& out, CountParameters* cp);

// Predicted counts (cells x the model's features) brought to the modality's model scale, the one
// the baselines and metrics use: the same apply step as the data (apply_preprocessing). Per-cell
// preprocessings (log1p, clr) read every input feature; features dropped as constant on the
// training cells are filled with 0 there (a constant count feature is almost always all-zero).
omics::DenseMatrix counts_to_model_scale(const ModalityPreprocessing& p, const omics::DenseMatrix& counts);

// Every modality with a count likelihood must hold non-negative integers; the first offending
// value is one error line naming the modality, the file, the cell and feature, and suggesting
// --distance NAME=mse.
void check_count_modalities(const Dataset& d, const std::vector<std::string>& distance);

}  // namespace cg::multitask
