// read_10x_h5: 10x Genomics feature-barcode matrices. The file stores a features x barcodes
// matrix in CSC form, which is exactly the barcodes x features matrix in CSR form, so the
// arrays are used as they are.
#include "omics/anndata.h"
#include "omics/error.h"
#include "omics/h5ad_matrix_io.h"
#include "omics/hdf5_util.h"

namespace cg::omics {

using h5::fail;
using h5::Hid;

AnnData read_10x_h5(const std::string& path) {
  Hid f = h5::open_file_readonly(path);
  h5::ReadBudget budget(f, path);
  std::string root = "matrix", names_key, ids_key, types_key;
  if (h5::kind_of(f, "matrix") == h5::Kind::Group) {
    names_key =
        h5::kind_of(f, "matrix/features/name") == h5::Kind::Dataset ? "matrix/features/name" : "matrix/features/id";
    ids_key = "matrix/features/id";
    types_key = "matrix/features/feature_type";
  } else {
    // CellRanger 2: a single group named after the genome, genes + gene_names.
    auto top = h5::children(f, path, "/");
    if (top.size() != 1 || h5::kind_of(f, top[0]) != h5::Kind::Group)
      fail(path, "matrix", "missing: not a 10x Genomics HDF5 file (expected group 'matrix' or one genome group)");
    root = top[0];
    names_key = h5::kind_of(f, root + "/gene_names") == h5::Kind::Dataset ? root + "/gene_names" : root + "/genes";
    ids_key = root + "/genes";
  }

  auto shape = h5::read_all<int64_t>(f, path, root + "/shape", root + "/shape");
  if (shape.size() != 2 || shape[0] < 0 || shape[1] < 0)
    fail(path, root + "/shape", "expected two non-negative sizes (features, barcodes)");
  CsrMatrix m;
  m.rows = shape[1];  // barcodes
  m.cols = shape[0];  // features
  m.data = h5::read_all<float>(f, path, root + "/data", root + "/data");
  m.indices = h5::read_all<int64_t>(f, path, root + "/indices", root + "/indices");
  m.indptr = h5::read_all<int64_t>(f, path, root + "/indptr", root + "/indptr");
  if (m.indptr.empty()) fail(path, root + "/indptr", "is empty");
  detail::validate_csr(m, path + ": " + root);

  AnnData a;
  a.source_file = path;
  a.X = Matrix::from(std::move(m));
  a.obs.source_file = a.var.source_file = path;
  a.obs.key = "obs";
  a.var.key = "var";
  a.obs.index = h5::read_strings(h5::open_dataset(f, path, root + "/barcodes"), path, root + "/barcodes");
  a.var.index = h5::read_strings(h5::open_dataset(f, path, names_key), path, names_key);
  if (static_cast<int64_t>(a.obs.index.size()) != a.X.rows())
    fail(path, root + "/barcodes",
         "has " + std::to_string(a.obs.index.size()) + " entries, expected " + std::to_string(a.X.rows()) +
             " (shape[1])");
  if (static_cast<int64_t>(a.var.index.size()) != a.X.cols())
    fail(path, names_key,
         "has " + std::to_string(a.var.index.size()) + " entries, expected " + std::to_string(a.X.cols()) +
             " (shape[0])");
  if (ids_key != names_key && h5::kind_of(f, ids_key) == h5::Kind::Dataset)
    a.var.set("gene_ids", Column::text(h5::read_strings(h5::open_dataset(f, path, ids_key), path, ids_key)));
  if (!types_key.empty() && h5::kind_of(f, types_key) == h5::Kind::Dataset)
    a.var.set("feature_types", Column::text(h5::read_strings(h5::open_dataset(f, path, types_key), path, types_key)));
  a.validate();
  return a;
}

}  // namespace cg::omics
