#pragma once
// The one write-to-a-temporary-then-rename writer (checkpoints, .h5ad files, CSV tables), so
// that readers only ever see the old file or the complete new one and a failed or interrupted
// write never leaves half a file. In base/ (header-only, no dependency on any other folder)
// because both nn and omics use it and neither may depend on the other.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>  // std::rename
#include <cstring>
#include <functional>
#include <string>

#include "base/error.h"

namespace cg {

// `write` fills the temporary file "<path>.tmp-<pid>" it is given and closes it, throwing if
// anything failed: closing an HDF5 file or a stream is where a late write error (a full disk)
// shows first. The finished temporary is then fsynced, which also reports write errors the
// kernel only found when flushing the page cache, so that the rename never exposes a file whose
// data is not on disk; then it is renamed onto `path` (atomic within one directory on POSIX
// file systems). On any failure the temporary is removed: what `write` throws is rethrown, and a
// failed sync or rename throws E(context + problem), `context` naming the file ("<path>: ").
template <class E = Error>
void write_atomically(const std::string& path, const std::string& context,
                      const std::function<void(const std::string& tmp_path)>& write) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  try {
    write(tmp);
  } catch (...) {
    ::unlink(tmp.c_str());  // not remove(): never deletes a folder that sits at that name
    throw;
  }
  std::string problem;
  int err = 0;
  const int fd = ::open(tmp.c_str(), O_RDONLY);
  if (fd < 0) {
    err = errno;
    problem = "the finished temporary file '" + tmp + "' cannot be reopened to sync it";
  } else {
    if (::fsync(fd) != 0) {
      err = errno;
      problem = "writing the temporary file '" + tmp + "' failed (fsync)";
    }
    ::close(fd);  // read-only: nothing left to flush
  }
  if (problem.empty() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    problem = "cannot move the finished temporary file into place";
  }
  if (problem.empty()) return;
  ::unlink(tmp.c_str());
  throw E(context + problem + ": " + std::strerror(err));
}

}  // namespace cg
