#include "omics/atomic_write.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "omics/error.h"

namespace cg::omics {

void write_atomically(const std::string& path, const std::function<void(const std::string& tmp_path)>& write) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  try {
    write(tmp);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  // rename() within one directory is atomic on POSIX file systems.
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw DataError(path + ": cannot move the finished temporary file into place: " + std::strerror(err));
  }
}

}  // namespace cg::omics
