// Writes the seed corpora for the fuzzers at run time (no binary blobs in the repository):
// small .h5ad files in each layout the reader handles, a 10x .h5, and GMT / PROGENy texts; with
// APP_DIR, also the app loaders' seeds: a perturbation file (obs condition and cell_type) and a
// train_multitask modality (cells c0..c29, obs type) that pairs with fuzz_multitask_input's partner.
//   make_seeds H5AD_DIR GMT_DIR [APP_DIR]
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

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

// Control and stimulated cells of three types, log-normalised-looking values.
AnnData perturbation() {
  AnnData a;
  std::vector<std::string> cond, type;
  DenseMatrix x(24, 6);
  for (int i = 0; i < 24; ++i) {
    a.obs.index.push_back("p" + std::to_string(i));
    cond.push_back(i % 2 ? "stim" : "control");
    type.push_back(std::string(1, static_cast<char>('A' + i % 3)));
    for (int j = 0; j < 6; ++j) x(i, j) = static_cast<float>((i * 5 + j * 7) % 13) / 4.0f + (i % 2 ? 0.5f * j : 0.0f);
  }
  a.X = Matrix::from(CsrMatrix::from_dense(x));
  a.obs.set("condition", Column::categorical(cond));
  a.obs.set("cell_type", Column::categorical(type));
  for (int j = 0; j < 6; ++j) a.var.index.push_back("g" + std::to_string(j));
  return a;
}

AnnData modality() {
  AnnData a;
  std::vector<std::string> type;
  DenseMatrix x(30, 5);
  for (int i = 0; i < 30; ++i) {
    a.obs.index.push_back("c" + std::to_string(i));
    type.push_back("type" + std::to_string(i % 3));
    for (int j = 0; j < 5; ++j) x(i, j) = static_cast<float>((i * 3 + j * 5) % 7);
  }
  a.X = Matrix::from(x);
  a.obs.set("type", Column::categorical(type));
  for (int j = 0; j < 5; ++j) a.var.index.push_back("m" + std::to_string(j));
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::cerr << "usage: make_seeds H5AD_DIR GMT_DIR [APP_DIR]\n";
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
    if (argc == 4) {
      write_h5ad(std::string(argv[3]) + "/perturbation.h5ad", perturbation());
      write_h5ad(std::string(argv[3]) + "/modality.h5ad", modality());
    }
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
