#include "nn/mask_util.h"

#include <vector>

#include "autograd/error.h"

namespace cg::nn {

Tensor checked_binary_mask(const std::string& layer, const Tensor& mask, const Shape& expected, const char* layout) {
  CG_CHECK(mask.defined(),
           layer << ": the mask is undefined (expected " << layout << " = " << shape_str(expected) << ")");
  CG_CHECK(mask.shape() == expected, layer << ": mask shape " << shape_str(mask.shape())
                                           << " does not match the layer's " << layout << " = " << shape_str(expected));
  // A soft or NaN mask would silently turn "fixed structure" into a scaling of the weights.
  const std::vector<double> v = mask.to_vector<double>();
  for (size_t i = 0; i < v.size(); ++i) {
    CG_CHECK(v[i] == 0.0 || v[i] == 1.0, layer << ": the mask must hold only 0 and 1, found " << v[i]
                                               << " at flat index " << i << " of " << shape_str(expected));
  }
  return mask.detach().to(Device::CPU).to(DType::F32).clone();
}

}  // namespace cg::nn
