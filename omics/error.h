#pragma once
// Errors raised by the data layer. omics/ does not depend on autograd, so DataError derives from
// cg::Error through base/error.h (a header with no dependencies), the root every layer shares;
// apps catch std::exception and print what() as one line.
#include <string>

#include "base/error.h"

namespace cg::omics {

// Say what was expected and what was found, naming the file and the dataset key.
struct DataError : Error {
  using Error::Error;
};

}  // namespace cg::omics
