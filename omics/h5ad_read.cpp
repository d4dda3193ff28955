// read_h5ad: the top level of the .h5ad reader; the element readers live in h5ad_matrix_io and
// h5ad_frame_io.
#include "omics/anndata.h"
#include "omics/error.h"
#include "omics/h5ad_frame_io.h"
#include "omics/h5ad_matrix_io.h"
#include "omics/hdf5_util.h"

namespace cg::omics {

using h5::Hid;

AnnData read_h5ad(const std::string& path, const ReadOptions& opt) {
  Hid f = h5::open_file_readonly(path);
  h5::ReadBudget budget(f, path);
  AnnData a;
  a.source_file = path;
  const std::vector<int64_t>* rows = opt.rows ? &*opt.rows : nullptr;
  const std::vector<int64_t>* genes = opt.genes ? &*opt.genes : nullptr;
  const detail::Subset sub{rows, genes};

  a.obs = detail::read_dataframe(f, path, "obs", rows, &a.skipped);
  const std::string x_key = opt.use_raw ? "raw/X" : "X";
  if (opt.use_raw && h5::kind_of(f, "raw") != h5::Kind::Group)
    h5::fail(path, "raw", "missing (--use-raw asks for .raw, which this file does not have)");
  a.var = detail::read_dataframe(f, path, opt.use_raw ? "raw/var" : "var", genes, &a.skipped);

  if (opt.load_X) {
    if (h5::kind_of(f, x_key) == h5::Kind::Missing) h5::fail(path, x_key, "missing");
    a.X = detail::read_matrix(f, path, x_key, sub);
  }
  if (opt.load_layers && h5::kind_of(f, "layers") == h5::Kind::Group) {
    Hid g = h5::open_group(f, path, "layers");
    for (const auto& name : h5::children(g, path, "layers"))
      a.layers[name] = detail::read_matrix(f, path, "layers/" + name, sub);
  }
  if (opt.load_obsm && h5::kind_of(f, "obsm") == h5::Kind::Group) {
    Hid g = h5::open_group(f, path, "obsm");
    for (const auto& name : h5::children(g, path, "obsm")) {
      const std::string key = "obsm/" + name;
      if (h5::kind_of(f, key) != h5::Kind::Dataset) {
        a.skipped.push_back(key);  // dataframes or sparse matrices in obsm
        continue;
      }
      a.obsm[name] = detail::read_dense(f, path, key, detail::Subset{rows, nullptr});
    }
  }
  if (opt.load_uns) a.uns = detail::read_uns(f, path, &a.skipped);

  // Elements this reader does not model: say so instead of dropping them silently.
  for (const char* key : {"raw", "obsp", "varm", "varp"}) {
    if (opt.use_raw && std::string(key) == "raw") continue;
    h5::Kind k = h5::kind_of(f, key);
    if (k == h5::Kind::Missing) continue;
    if (k == h5::Kind::Group) {
      Hid g = h5::open_group(f, path, key);
      if (h5::children(g, path, key).empty()) continue;
    }
    a.skipped.push_back(key);
  }

  if (opt.load_X) a.validate();
  return a;
}

}  // namespace cg::omics
