#pragma once
// AnnData in memory and its .h5ad (HDF5, anndata >= 0.8 encoding) reader and writer.
//
// What is kept: X, layers (dense or CSR, values as float32), obs and var (index + numeric,
// string and categorical columns), obsm (dense), and the numeric / string scalars and 1-D arrays
// of uns (nested dicts flattened to "a/b/c" keys). Everything else in a file (raw, obsp, varm,
// varp, record arrays, nullable columns...) is listed in `skipped` rather than silently lost.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "omics/dataframe.h"
#include "omics/matrix.h"

namespace cg::omics {

// A data matrix that is either dense or CSR, as X and layers are in files.
struct Matrix {
  bool sparse = false;
  DenseMatrix dense;  // when !sparse
  CsrMatrix csr;      // when sparse

  int64_t rows() const { return sparse ? csr.rows : dense.rows(); }
  int64_t cols() const { return sparse ? csr.cols : dense.cols(); }
  DenseMatrix to_dense() const { return sparse ? csr.to_dense() : dense; }
  static Matrix from(DenseMatrix m);
  static Matrix from(CsrMatrix m);
};

// One uns entry: a scalar or 1-D array of numbers or strings.
struct UnsValue {
  enum class Type { Number, String };
  Type type = Type::Number;
  bool scalar = true;    // rank-0 in the file (false: 1-D array, possibly of length 1)
  bool integer = false;  // stored as an integer dtype
  std::vector<double> numbers;
  std::vector<std::string> strings;

  static UnsValue number(double v, bool integer = false);
  static UnsValue text(std::string s);
};

struct AnnData {
  Matrix X;
  DataFrame obs, var;
  std::map<std::string, DenseMatrix> obsm;
  std::map<std::string, Matrix> layers;
  std::map<std::string, UnsValue> uns;
  std::vector<std::string> skipped;  // file keys present but not loaded
  std::string source_file;           // path it was read from ("" when built in memory)

  int64_t n_obs() const { return static_cast<int64_t>(obs.rows()); }
  int64_t n_vars() const { return static_cast<int64_t>(var.rows()); }
  DenseMatrix dense_X() const { return X.to_dense(); }
  // DataError unless X, layers, obsm, obs and var agree on the number of cells and genes.
  void validate() const;
};

struct ReadOptions {
  // Cells to load, in this order (repeats allowed). X and layers are read slice by slice
  // (CSR: only the needed ranges of data/indices; dense: only the needed rows), never whole.
  std::optional<std::vector<int64_t>> rows;
  // Genes to load, in this order (no repeats). CSR matrices are streamed in blocks of rows
  // and filtered, so X is never held whole in memory.
  std::optional<std::vector<int64_t>> genes;
  bool load_X = true;  // false: obs/var/uns only (X left 0 x 0), to choose rows before loading
  bool load_layers = true;
  bool load_obsm = true;
  bool load_uns = true;
  // Read raw/X and raw/var (what scanpy keeps in .raw before scaling) in place of X and var. A
  // file without raw is a DataError saying so.
  bool use_raw = false;
};

AnnData read_h5ad(const std::string& path, const ReadOptions& opt = {});

struct WriteOptions {
  int gzip_level = 0;  // 0: uncompressed, as anndata writes by default
};
// Writes `<path>.tmp-<pid>` and renames it onto `path`, so a failure never leaves a partial
// file; the temporary is removed on any error.
void write_h5ad(const std::string& path, const AnnData& a, const WriteOptions& opt = {});

// 10x Genomics feature-barcode HDF5 (CellRanger >= 3: matrix/{data,indices,indptr,shape,barcodes,
// features/{name,id,feature_type}}; CellRanger 2: one genome group with genes/gene_names).
// Returns cells x genes CSR; var index = feature names, with a `gene_ids` column when present.
AnnData read_10x_h5(const std::string& path);

// Raw counts must be finite and non-negative: DataError naming `what` and the first bad entry.
void check_counts(const Matrix& X, const std::string& what);
void check_counts(const CsrMatrix& X, const std::string& what);
void check_counts(const DenseMatrix& X, const std::string& what);

}  // namespace cg::omics
