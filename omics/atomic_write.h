#pragma once
// Writes a file so that readers only ever see the old file or the complete new one: the writer
// fills "<path>.tmp-<pid>", which is renamed onto `path` only after it succeeded, and removed
// when it throws.
#include <functional>
#include <string>

namespace cg::omics {

// `write` receives the temporary path to fill. Rethrows whatever it throws (after removing the
// temporary); DataError if the rename fails.
void write_atomically(const std::string& path, const std::function<void(const std::string& tmp_path)>& write);

}  // namespace cg::omics
