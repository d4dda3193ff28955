#include "omics/h5_read_guard.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "omics/error.h"
#include "omics/hdf5_util.h"

namespace cg::omics {
namespace {

// The child's exit status when its read raised an error. Any status other than this and 0 is a
// death: a sanitizer build turns a SEGV into a report and exit status 1, for instance.
constexpr int kReadRaised = 77;

bool guard_enabled() {
  const char* v = std::getenv("CELLGRAD_READ_CHECK");
  return !(v && std::string(v) == "0");
}

double time_limit_seconds(const std::string& path) {
  if (const char* v = std::getenv("CELLGRAD_READ_CHECK_SECONDS")) {
    char* end = nullptr;
    const double s = std::strtod(v, &end);
    if (end != v && *end == '\0' && s > 0) return s;
    throw DataError("CELLGRAD_READ_CHECK_SECONDS: expected a positive number of seconds, found '" + std::string(v) +
                    "'");
  }
  struct stat st {};
  const double mb = ::stat(path.c_str(), &st) == 0 ? double(st.st_size) / (1 << 20) : 0.0;
  return 120.0 + mb / 20.0;
}

[[noreturn]] void child_main(int fd, const std::function<void()>& read) {
  // The parent's handlers (the run folder's cleanup on SIGINT/SIGTERM/SIGHUP) are the parent's
  // business: a Ctrl-C reaches both processes, and only the parent should clean up.
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_DFL);
  // A crash must end the child by its signal, so that the parent can say so: no handler of the
  // parent's (a test framework's report, a sanitizer's, which exits with a status instead) runs.
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(sig, SIG_DFL);
  // Whatever the child would print is the parent's to say once: HDF5 diagnostics, warnings of
  // the read, and a sanitizer build's report of the crash it turns into an exit status.
  const int devnull = ::open("/dev/null", O_WRONLY);
  if (devnull >= 0) {
    ::dup2(devnull, STDOUT_FILENO);
    ::dup2(devnull, STDERR_FILENO);
    ::close(devnull);
  }
  h5::set_read_tracker(fd);
  // An error (a DataError for a malformed file) is not the child's to report: the parent reads
  // again and meets the same error, of the same type, at the same place.
  int code = 0;
  try {
    read();
  } catch (...) {
    code = kReadRaised;
  }
  // _exit, not exit: no atexit handlers (HDF5's own cleanup, the parent's buffered output).
  ::_exit(code);
}

// The last complete key line the child wrote (an unfinished one: it died mid-write).
std::string last_key_in(std::string out) {
  const size_t end = out.rfind('\n');
  if (end == std::string::npos) return "";
  out.resize(end);
  const size_t nl = out.rfind('\n');
  return nl == std::string::npos ? out : out.substr(nl + 1);
}

std::string where(const std::string& key) { return key.empty() ? "opening the file" : "reading '" + key + "'"; }

}  // namespace

void check_read_survives(const std::string& path, const std::function<void()>& read) {
  if (!guard_enabled()) return;
  const double limit = time_limit_seconds(path);
  int fds[2];
  if (::pipe(fds) != 0)
    throw DataError(path + ": cannot check the file before reading it (pipe: " + std::strerror(errno) + ")");
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw DataError(path + ": cannot check the file before reading it (fork: " + std::strerror(errno) + ")");
  }
  if (child == 0) {
    ::close(fds[0]);
    child_main(fds[1], read);
  }
  ::close(fds[1]);

  // Collect the child's lines until it closes the pipe (exit or death) or the time runs out.
  std::string out;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(limit);
  char buf[4096];
  for (;;) {
    const double left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = ::poll(&p, 1, int(std::min(left * 1000.0, 1000.0)) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child is gone
    out.append(buf, size_t(n));
    // Keep only what a message needs: the last few keys.
    if (out.size() > (1 << 16)) out.erase(0, out.size() - 4096);
  }
  ::close(fds[0]);
  if (timed_out) ::kill(child, SIGKILL);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }

  const std::string last_key = last_key_in(out);
  if (timed_out)
    throw DataError(path + ": reading it did not finish within " + std::to_string(int(limit)) + " s (stuck " +
                    where(last_key) +
                    "): the file is corrupt or the HDF5 library loops on it. A trusted, very large file may "
                    "need CELLGRAD_READ_CHECK_SECONDS set higher");
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    throw DataError(path + ": the HDF5 library crashed (signal " + std::to_string(sig) + ", " + ::strsignal(sig) +
                    ") while " + where(last_key) + "; the file is corrupt or not a valid .h5ad/.h5 file");
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code != 0 && code != kReadRaised)
    throw DataError(path + ": reading it ended the checking process abnormally (exit status " + std::to_string(code) +
                    ") while " + where(last_key) + "; the file is corrupt or not a valid .h5ad/.h5 file");
  // 0: the read went through; kReadRaised: an error the caller's own read will raise. Read here.
}

}  // namespace cg::omics
