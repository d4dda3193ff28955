#pragma once
// A full disk, simulated: runs a write in a child process whose writes past `bytes` in any file
// fail with EFBIG (RLIMIT_FSIZE, SIGXFSZ ignored), as writes to a full disk fail, and returns the
// message of the cg::Error it threw ("" when it threw nothing). A child process, and one that
// leaves with _exit: HDF5 1.10 cannot recover from closing a file whose flush failed; it crashes
// the next time it touches that file, which is at exit (H5_term_library).
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <functional>
#include <string>

#include "base/error.h"

namespace cg::test {

inline std::string error_when_disk_full(rlim_t bytes, const std::function<void()>& write) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit r{};
    getrlimit(RLIMIT_FSIZE, &r);
    r.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &r);
    std::string msg;
    try {
      write();
    } catch (const Error& e) {
      msg = e.what();
    } catch (const std::exception& e) {
      msg = std::string("not a cg::Error: ") + e.what();
    }
    const ssize_t n = ::write(fds[1], msg.data(), msg.size());
    _exit(n == static_cast<ssize_t>(msg.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string msg;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) msg.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == 0), "the writing child process failed: status " << status);
  return msg;
}

}  // namespace cg::test
