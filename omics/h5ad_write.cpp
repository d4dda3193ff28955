// write_h5ad: the anndata >= 0.8 on-disk encoding, written atomically.
#include <cerrno>

#include "base/atomic_write.h"
#include "omics/anndata.h"
#include "omics/error.h"
#include "omics/h5ad_frame_io.h"
#include "omics/h5ad_matrix_io.h"
#include "omics/hdf5_util.h"

namespace cg::omics {

using h5::Hid;

namespace {

void check_element_name(const std::string& path, const std::string& group, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == ".")
    throw DataError(path + ": " + group + ": element name '" + name + "' cannot be stored");
}

Hid dict_group(hid_t f, const std::string& name) {
  Hid g = h5::create_group(f, name);
  h5::write_encoding(g, "dict", "0.1.0");
  return g;
}

}  // namespace

void write_h5ad(const std::string& path, const AnnData& a, const WriteOptions& opt) {
  a.validate();
  for (auto& [name, m] : a.obsm) check_element_name(path, "obsm", name);
  for (auto& [name, m] : a.layers) check_element_name(path, "layers", name);
  write_atomically<DataError>(path, path + ": ", [&](const std::string& tmp) {
    Hid f = h5::create_file(tmp);
    try {
      h5::write_encoding(f, "anndata", "0.1.0");
      detail::write_matrix(f, "X", a.X, opt.gzip_level);
      detail::write_dataframe(f, "obs", a.obs, opt.gzip_level);
      detail::write_dataframe(f, "var", a.var, opt.gzip_level);
      {
        Hid g = dict_group(f, "obsm");
        for (auto& [name, m] : a.obsm) detail::write_dense(g, name, m, opt.gzip_level);
      }
      {
        Hid g = dict_group(f, "layers");
        for (auto& [name, m] : a.layers) detail::write_matrix(g, name, m, opt.gzip_level);
      }
      for (const char* empty : {"obsp", "varm", "varp"}) dict_group(f, empty);
      detail::write_uns(f, a.uns);
    } catch (const DataError& e) {
      // Element writers know the element, not the destination: name it.
      const std::string msg = e.what();
      if (msg.rfind(tmp, 0) == 0) throw DataError(path + msg.substr(tmp.size()));
      throw DataError(path + ": " + msg);
    }
    if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) {
      if (errno == ENOSPC) h5::fail(path, "", "no space left on the device (flush failed)");
      h5::fail(path, "", "flush failed", true);
    }
    if (!f.close()) h5::fail(path, "", "closing the file failed", true);
  });
}

}  // namespace cg::omics
