#pragma once
// Engine errors: one exception type whose message names the op and what was expected/found.
#include <sstream>
#include <stdexcept>
#include <string>

namespace cg {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// CG_CHECK(cond, "op 'matmul': inner dimensions differ, " << a << " vs " << b)
#define CG_CHECK(cond, msg)                          \
  do {                                               \
    if (!(cond)) {                                   \
      std::ostringstream cg_os_;                     \
      cg_os_ << msg;                                 \
      throw ::cg::Error(cg_os_.str());               \
    }                                                \
  } while (0)

}  // namespace cg
