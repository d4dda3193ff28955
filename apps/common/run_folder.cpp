#include "apps/common/run_folder.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "apps/common/run_notes.h"
#include "autograd/error.h"
#include "base/atomic_write.h"

namespace fs = std::filesystem;

namespace cg::apps {
namespace {

// ---- removal of the staging folder from a signal handler ---------------------------------------
// A handler may only make async-signal-safe calls: opendir/readdir and std::filesystem are not,
// so the walk uses the system calls themselves (openat, getdents64, unlinkat, close) and a
// fixed buffer.
// The staging folders of this process's open run folders (a run and its --save-model copy).
constexpr int kSlots = 4;
char g_staging[kSlots][4096] = {};
char g_locks[kSlots][4096] = {};  // their lock files, removed with them

struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

void remove_tree_signal_safe(int parent_fd, const char* name, int depth) {
  if (depth > 32) return;
  const int fd = ::openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    char buffer[4096];
    for (;;) {
      const long n = ::syscall(SYS_getdents64, fd, buffer, sizeof buffer);
      if (n <= 0) break;
      for (long at = 0; at < n;) {
        auto* e = reinterpret_cast<LinuxDirent64*>(buffer + at);
        at += e->d_reclen;
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
        if (e->d_type == DT_DIR) remove_tree_signal_safe(fd, e->d_name, depth + 1);
        else ::unlinkat(fd, e->d_name, 0);
      }
    }
    ::close(fd);
  }
  ::unlinkat(parent_fd, name, AT_REMOVEDIR);
}

extern "C" void remove_staging_and_die(int sig) {
  for (int i = 0; i < kSlots; ++i) {
    if (g_staging[i][0] != '\0') remove_tree_signal_safe(AT_FDCWD, g_staging[i], 0);
    if (g_locks[i][0] != '\0') ::unlink(g_locks[i]);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void register_staging(const std::string& staging, const std::string& lock) {
  for (int i = 0; i < kSlots; ++i)
    if (g_staging[i][0] == '\0') {
      std::snprintf(g_staging[i], sizeof g_staging[i], "%s", staging.c_str());
      std::snprintf(g_locks[i], sizeof g_locks[i], "%s", lock.c_str());
      break;
    }
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = remove_staging_and_die;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

void unregister_staging(const std::string& staging) {
  bool any = false;
  for (int i = 0; i < kSlots; ++i) {
    if (staging == g_staging[i]) g_staging[i][0] = g_locks[i][0] = '\0';
    any = any || g_staging[i][0] != '\0';
  }
  if (!any)
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_DFL);
}

// ---- what a folder is -------------------------------------------------------------------------
bool is_same_or_ancestor(const fs::path& folder, const fs::path& p) {
  auto f = folder.begin(), q = p.begin();
  for (; f != folder.end(); ++f, ++q)
    if (q == p.end() || *f != *q) return false;
  return true;
}

fs::path canonical_or_absolute(const std::string& p) {
  std::error_code ec;
  const fs::path c = fs::weakly_canonical(fs::absolute(p), ec);
  return ec ? fs::absolute(p).lexically_normal() : c;
}

bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

// Folders of runs into `target` that were killed (their process is gone): a staging folder is
// removed; an earlier run set aside by a commit that was killed before the new run was moved in
// is put back (when the target is missing), otherwise removed.
void recover_interrupted_runs(const fs::path& parent, const fs::path& target) {
  const std::string name = target.filename().string();
  std::error_code ec;
  std::vector<fs::path> staging, aside;
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    const std::string f = e.path().filename().string();
    for (const std::string& prefix : {".cellgrad-staging-" + name + "-", ".cellgrad-old-" + name + "-"}) {
      if (f.rfind(prefix, 0) != 0 || process_alive(std::strtol(f.c_str() + prefix.size(), nullptr, 10))) continue;
      (prefix.find("staging") != std::string::npos ? staging : aside).push_back(e.path());
    }
  }
  for (const auto& old : aside) {
    std::error_code rm;
    if (!fs::exists(target)) {
      fs::rename(old, target, rm);
      note("--out " + target.string() + ": put back the earlier run that an interrupted run had set aside");
    } else {
      fs::remove_all(old, rm);
    }
  }
  for (const auto& folder : staging) {
    std::error_code rm;
    fs::remove_all(folder, rm);
    note("removed " + folder.string() + ", left by an interrupted run");
  }
}

void sync_folder(const fs::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Refuses a target that holds anything but an earlier run, or an earlier run without --overwrite.
void check_target(const fs::path& target, const std::string& where, bool overwrite) {
  std::error_code ec;
  if (fs::exists(target) && !fs::is_directory(target)) throw Error(where + ": exists and is not a folder");
  const bool holds_run = fs::exists(target / kRunMarker);
  if (fs::is_directory(target) && !fs::is_empty(target, ec)) {
    if (!holds_run && fs::exists(target / "config.json") && !fs::exists(target / "manifest.json"))
      throw Error(where + ": already holds a run (config.json found) of an earlier cellgrad version; " +
                  "choose another folder, or move it away yourself");
    if (!holds_run)
      throw Error(where + ": holds files that are not a cellgrad run; expected a new or empty folder, or an " +
                  "earlier run (with --overwrite)");
    if (!overwrite)
      throw Error(where + ": already holds a run (config.json found); choose another folder or pass --overwrite");
  }
}

}  // namespace

RunFolder::RunFolder(const std::string& out, bool overwrite, const std::vector<std::string>& inputs)
    : overwrite_(overwrite) {
  if (out.empty()) throw Error("--out: expected a folder name, found an empty string");
  const fs::path target = canonical_or_absolute(out);
  target_ = out;
  while (target_.size() > 1 && target_.back() == '/') target_.pop_back();
  const std::string where = "--out " + target_;
  if (target == target.root_path() || !target.has_filename())
    throw Error(where + ": expected a folder for the run's outputs, found the file system's root");
  if (is_same_or_ancestor(target, canonical_or_absolute(".")))
    throw Error(where + ": is the current directory or one of its parents; expected a folder of its own for the run");
  for (const auto& input : inputs)
    if (!input.empty() && is_same_or_ancestor(target, canonical_or_absolute(input)))
      throw Error(where + ": holds the input " + input + "; expected a folder of its own for the run");
  const fs::path parent = target.parent_path();
  fs::create_directories(parent);
  const std::string name = target.filename().string();
  lock_path_ = (parent / (".cellgrad-lock-" + name)).string();
  lock_fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) throw Error(where + ": cannot create the lock file " + lock_path_ + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    char holder[32] = {0};
    const ssize_t n = ::pread(lock_fd_, holder, sizeof holder - 1, 0);
    ::close(lock_fd_);
    lock_fd_ = -1;
    throw Error(where + ": another run (process " + (n > 0 ? std::string(holder) : std::string("?")) +
                ") is writing into it; wait for it to finish or choose another folder");
  }
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(lock_fd_, 0) == 0 && ::pwrite(lock_fd_, pid.data(), pid.size(), 0) < 0) {
    // The pid is only for the message of a second run; the lock itself holds.
  }
  try {
    recover_interrupted_runs(parent, target);
    check_target(target, where, overwrite);
  } catch (...) {
    ::unlink(lock_path_.c_str());
    ::close(lock_fd_);
    throw;
  }
  staging_ = (parent / (".cellgrad-staging-" + name + "-" + pid)).string();
  fs::remove_all(staging_);
  fs::create_directories(staging_);
  register_staging(staging_, lock_path_);
}

RunFolder::~RunFolder() {
  if (!committed_) {
    unregister_staging(staging_);
    std::error_code ec;
    fs::remove_all(staging_, ec);
  }
  if (lock_fd_ >= 0) {
    ::unlink(lock_path_.c_str());
    ::close(lock_fd_);
  }
}

std::string RunFolder::path(const std::string& relative) const {
  const fs::path p = fs::path(staging_) / relative;
  fs::create_directories(p.parent_path());
  return p.string();
}

void RunFolder::commit() {
  write_text_file(path(kRunMarker), "cellgrad run\n");
  sync_folder(staging_);
  const fs::path target = canonical_or_absolute(target_);
  const std::string name = target.filename().string();
  const fs::path aside = target.parent_path() / (".cellgrad-old-" + name + "-" + std::to_string(::getpid()));
  std::error_code ec;
  bool moved_aside = false;
  if (fs::exists(target)) {
    if (fs::is_empty(target, ec)) {
      fs::remove(target, ec);
    } else {
      if (!fs::exists(target / kRunMarker))
        throw Error("--out " + target_ + ": files appeared in it during the run; the results are left in " + staging_);
      fs::rename(target, aside);
      moved_aside = true;
    }
  }
  // Test hook: a pause between the two renames, so a test can kill the process at that instant.
  if (const char* pause = std::getenv("CELLGRAD_TEST_PAUSE_IN_COMMIT")) ::usleep(1000 * std::atoi(pause));
  fs::rename(staging_, target, ec);
  if (ec) {
    if (moved_aside) fs::rename(aside, target);  // the earlier run goes back
    throw Error("--out " + target_ + ": cannot move the finished run into place (" + ec.message() +
                "); the results are left in " + staging_);
  }
  committed_ = true;
  unregister_staging(staging_);
  sync_folder(target.parent_path());
  if (moved_aside) fs::remove_all(aside, ec);
}

void write_text_file(const std::string& path, const std::string& contents) {
  write_atomically(path, path + ": ", [&](const std::string& tmp) {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) throw Error("cannot write " + path + ": " + std::strerror(errno));
    f << contents;
    f.close();  // a full disk often shows only here
    if (!f) {
      const int err = errno;
      throw Error((err == ENOSPC ? "no space left writing " : "writing failed: ") + path + " (" +
                  std::to_string(contents.size()) + " bytes)");
    }
  });
}

}  // namespace cg::apps
