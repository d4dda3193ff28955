#pragma once
// The root of every exception cellgrad throws: kernels, autograd, nn and omics (whose DataError
// derives from it) all throw cg::Error or a subclass, so a caller can catch one type. It derives
// from std::runtime_error, so code catching std::exception or std::runtime_error still works.
//
// base/ holds small header-only pieces that depend on no other folder of this repository, so that
// every layer may include them without breaking the one-way dependencies (kernels <- autograd <-
// nn <- apps, omics <- apps). Header-only because the Makefile compiles only the layer folders.
#include <sstream>
#include <stdexcept>
#include <string>

namespace cg {

// Messages say what was expected and what was found.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// CG_CHECK(cond, "op 'matmul': inner dimensions differ, " << a << " vs " << b)
#define CG_CHECK(cond, msg)            \
  do {                                 \
    if (!(cond)) {                     \
      std::ostringstream cg_os_;       \
      cg_os_ << msg;                   \
      throw ::cg::Error(cg_os_.str()); \
    }                                  \
  } while (0)

}  // namespace cg
