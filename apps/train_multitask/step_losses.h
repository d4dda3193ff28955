#pragma once
#include <memory>

#include "apps/common/row_feeder.h"
// The multi-task model's loss terms for one batch (reconstruction, translation, generator,
// contrastive, KL, classification; see loss_terms.h), unweighted, and the batch tensors they
// are computed from.
#include <map>
#include <string>
#include <vector>

#include "apps/train_multitask/loss_terms.h"
#include "apps/train_multitask/model.h"
#include "apps/train_multitask/preprocessing.h"
#include "autograd/rng.h"
#include "omics/matrix.h"

namespace cg::multitask {

// The tensors-to-be of one run: every cell, preprocessed.
struct TrainData {
  std::vector<omics::DenseMatrix> X;  // per modality
  std::vector<bool> bce;              // per modality
  // Per modality with a count likelihood: the raw counts of the model's features (0 columns
  // otherwise), the loss's target; the model's input stays X.
  std::vector<omics::DenseMatrix> counts;
  // Per modality: its preprocessing (predicted counts are brought to the model scale with it).
  std::vector<ModalityPreprocessing> prep;
  omics::DenseMatrix condition;       // one-hot; 0 columns when unconditioned
  std::vector<int32_t> labels;        // empty without a label key
  int64_t classes = 0;
};

struct BatchTensors {
  std::vector<Tensor> x;
  std::vector<Tensor> counts, library;  // per modality; undefined without counts (library: [n, 1])
  Tensor condition, labels;
  int64_t n = 0;
};
// One batch, gathered on the host and uploaded (validation sets, one-off batches).
BatchTensors make_batch(const TrainData& d, const std::vector<int64_t>& rows, Device device);

// The training steps' batches: on a GPU every matrix (modalities, counts and their library sizes,
// the condition) is uploaded once and each batch gathered there (apps::RowFeeder), instead of
// gathering and uploading batch x features floats per step. On the CPU the same tensors as
// make_batch, bit for bit.
class BatchFeeder {
 public:
  BatchFeeder(const TrainData& d, Device device);
  BatchTensors batch(const std::vector<int64_t>& rows) const;

 private:
  const TrainData& d_;
  Device device_;
  std::vector<omics::DenseMatrix> library_;  // per modality with counts: each cell's count total
  std::vector<std::unique_ptr<apps::RowFeeder>> x_, counts_, library_rows_;
  std::unique_ptr<apps::RowFeeder> condition_;
};

Tensor mean_of(const std::vector<Tensor>& v);

// Every active term by name.
struct Terms {
  std::map<std::string, Tensor> t;
};

class Step {
 public:
  Step(UnitedNetModel& m, const Config& c, const TrainData& d, const ActiveTerms& a)
      : model_(m), c_(c), d_(d), a_(a), contrastive_gen_(c.seed, 13) {}
  void set_class_weights(const Tensor& w) { class_weights_ = w; }
  Generator& contrastive_generator() { return contrastive_gen_; }

  // The losses of one batch. with_translation / with_classification select the groups;
  // reconstructions (when given) receives each modality's reconstruction (sigmoid for BCE).
  Terms losses(const BatchTensors& b, bool with_translation, bool with_classification, double kl_factor,
               std::vector<Tensor>* reconstructions = nullptr);
  // The discriminators' LSGAN loss on real cells vs the detached reconstructions, over modalities.
  Tensor discriminator_loss(const BatchTensors& b, const std::vector<Tensor>& reconstructions);

 private:
  UnitedNetModel& model_;
  const Config& c_;
  const TrainData& d_;
  ActiveTerms a_;
  Generator contrastive_gen_;
  Tensor class_weights_;
};

// The validation columns of an epoch's row: val_<term> for reconstruction, translation and
// classification (eval mode, no tape), and val_loss, what early stopping and the best state
// follow: the --select-on terms weighted as in training, or all of them when none is active.
void validation_losses(Step& step, UnitedNetModel& model, const BatchTensors& validation, const Config& c,
                       bool with_translation, bool with_classification, std::map<std::string, double>& row);

}  // namespace cg::multitask
