#pragma once
// Expression matrices as users have them: an .h5ad as scanpy leaves it (X, a layer, or .raw) or
// a 10x Genomics .h5, optionally normalised here (normalize_total 1e4 then log1p), and checked
// to hold what the perturbation models expect (log1p of normalised counts). Also the alignment
// of a file's genes to the genes a saved model was trained on.
#include <string>
#include <vector>

#include "omics/anndata.h"

namespace cg::apps {

struct ExpressionOptions {
  std::string layer;                // "": X
  bool use_raw = false;             // raw/X and raw/var instead of X and var
  std::string preprocess = "none";  // none | log1p (normalize_total 1e4, then log1p)
  bool allow_counts = false;        // accept integer counts where log data is expected (a warning)
  // With preprocess none: integer counts are normalised here (normalize_total 1e4, then log1p)
  // with a note rather than refused. For readers that need log-normalised values whatever the
  // file holds (predict_perturbation's rank encodings).
  bool normalise_counts = false;
};

// An .h5ad with X taken from `layer` (when not empty) or from .raw (use_raw; raw/var becomes var),
// with the other read options as given. A missing layer is an error listing the layers present;
// asking for both is an error.
omics::AnnData read_h5ad_source(const std::string& path, omics::ReadOptions options, const std::string& layer,
                                bool use_raw);

// "none" or "log1p", or an error naming --preprocess.
void check_preprocess_name(const std::string& preprocess);

// Reads `path` (".h5" as 10x Genomics HDF5, anything else as .h5ad) with obs, var and a dense
// X in the options' source, applies the preprocessing and checks the result:
//  - a non-finite value is an error naming the cell and gene;
//  - negative values (data scaled by pp.scale) are an error suggesting --use-raw / --layer;
//  - integer counts without --preprocess log1p are an error suggesting it or --layer
//    (--allow-counts turns it into a warning);
//  - a maximum above 20 is a warning (not log-normalised?).
// Warnings go through apps::warn.
omics::AnnData read_expression(const std::string& path, const ExpressionOptions& options);

// The columns of X (whose genes are `file_genes`) reordered (messages call them `noun`) to `model_genes`. A model gene
// the file lacks is an error giving the count and the first few names, unless fill_missing == "zeros" (then it is 0,
// with a note); genes the model does not know are dropped with a note. A file gene listed twice: the first is used,
// with a note. No overlap at all is always an error.
omics::DenseMatrix align_genes(const omics::DenseMatrix& X, const std::vector<std::string>& file_genes,
                               const std::vector<std::string>& model_genes, const std::string& fill_missing,
                               const std::string& source, const std::string& noun = "genes");

}  // namespace cg::apps
