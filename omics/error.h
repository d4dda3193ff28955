#pragma once
// Errors raised by the data layer. omics/ does not depend on autograd, so it has its own
// exception type; apps catch std::exception and print what() as one line.
#include <stdexcept>
#include <string>

namespace cg::omics {

// Say what was expected and what was found, naming the file and the dataset key.
struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace cg::omics
