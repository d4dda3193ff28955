// Writes the seed corpora for the fuzzers at run time (no binary blobs in the repository):
// small .h5ad files in each layout the reader handles, a 10x .h5, and GMT / PROGENy texts.
//   make_seeds H5AD_DIR GMT_DIR
#include <fstream>
#include <iostream>

#include "omics/anndata.h"
#include "omics/hdf5_util.h"

using namespace cg::omics;

namespace {

AnnData small(bool sparse) {
  AnnData a;
  a.obs.index = {"c0", "c1", "c2"};
  a.var.index = {"g0", "g1", "g2", "g3"};
  DenseMatrix x(3, 4);
  x << 1, 0, 0, 2, 0, 0, 3, 0, 4, 5, 0, 6;
  a.X = sparse ? Matrix::from(CsrMatrix::from_dense(x)) : Matrix::from(x);
  a.obs.set("ct", Column::categorical({"T", "B", "T"}));
  a.obs.set("n", Column::numeric({1, 2, 3}, h5::NumType::Int64));
  a.obs.set("flag", Column::numeric({1, 0, 1}, h5::NumType::Bool));
  a.var.set("name", Column::text({"a", "b", "c", "d"}));
  return a;
}

void tenx(const std::string& path) {
  h5::Hid f = h5::create_file(path);
  h5::Hid g = h5::create_group(f, "matrix");
  std::vector<int64_t> shape = {4, 3}, indptr = {0, 2, 3, 6}, indices = {0, 3, 2, 0, 1, 3};
  std::vector<double> data = {1, 2, 3, 4, 5, 6};
  h5::write_numeric(g, "shape", H5T_NATIVE_INT64, H5T_STD_I32LE, {2}, shape.data(), 0);
  h5::write_numeric(g, "indptr", H5T_NATIVE_INT64, H5T_STD_I64LE, {4}, indptr.data(), 0);
  h5::write_numeric(g, "indices", H5T_NATIVE_INT64, H5T_STD_I64LE, {6}, indices.data(), 0);
  h5::write_numeric(g, "data", H5T_NATIVE_DOUBLE, H5T_STD_I32LE, {6}, data.data(), 0);
  h5::write_strings(g, "barcodes", {"AAA", "CCC", "GGG"}, false, 0);
  h5::Hid feat = h5::create_group(g, "features");
  h5::write_strings(feat, "name", {"A", "B", "C", "D"}, false, 0);
  h5::write_strings(feat, "id", {"E1", "E2", "E3", "E4"}, false, 0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: make_seeds H5AD_DIR GMT_DIR\n";
    return 2;
  }
  const std::string h = argv[1], g = argv[2];
  try {
    write_h5ad(h + "/csr.h5ad", small(true));
    write_h5ad(h + "/dense.h5ad", small(false));
    AnnData u = small(true);
    u.obsm["X_pca"] = DenseMatrix::Constant(3, 2, 0.5f);
    u.layers["counts"] = u.X;
    u.uns["k"] = UnsValue::number(3, true);
    u.uns["d/s"] = UnsValue::text("x");
    write_h5ad(h + "/full.h5ad", u);
    write_h5ad(h + "/gzip.h5ad", small(true), WriteOptions{6});
    tenx(h + "/tenx.h5");
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  std::ofstream(g + "/a.gmt")
      << "SET_A\tdesc\tCD3E\tCD4\tMS4A1\nSET_B\tx\tcd3e\tCD4\n\nSET_C\t\tGAPDH\tACTB\tTP53\tMYC\r\n";
  std::ofstream(g + "/b.gmt") << "ONLY\n";
  std::ofstream(g + "/progeny.tsv") << "gene\tpathway\tweight\tp.value\nCD3E\tTNFa\t1.5\t1e-10\nMYC\tp53\t-2\t0.5\n";
  return 0;
}
