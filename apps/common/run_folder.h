#pragma once
// A run folder that appears whole or not at all, and never destroys anything else.
//  - Outputs are written into a hidden staging folder beside the target
//    ("<parent>/.cellgrad-staging-<name>-<pid>"); commit() moves it onto the target. A failed
//    run (exception, NaN, bad input) removes the staging folder in the destructor, and SIGINT,
//    SIGTERM or SIGHUP remove it in a signal handler, so nothing is left behind. Staging
//    folders of killed runs (SIGKILL) are removed by the next run into the same place.
//  - Everything is decided before any computation: --out that holds a run is refused unless
//    --overwrite; --out that holds anything else (files that are not a cellgrad run) is refused
//    even with --overwrite; so are the current directory, its parents, and a folder that holds
//    one of the run's inputs. A run is recognised by the marker file commit() writes.
//  - A lock file ("<parent>/.cellgrad-lock-<name>") makes a second run into the same --out fail
//    at once, naming the process that holds it.
//  - Replacing an earlier run: the old run is renamed aside, the new one renamed in, and only
//    then the old one deleted; if the second rename fails the old run is renamed back, so no
//    instant of the commit loses both.
#include <string>
#include <vector>

namespace cg::apps {

// The file a committed run holds, by which --overwrite recognises a folder it may replace.
constexpr const char* kRunMarker = ".cellgrad-run";

class RunFolder {
 public:
  // `inputs`: files the run reads (a folder holding one of them is never replaced). Throws
  // cg::Error naming the folder when it may not be used.
  RunFolder(const std::string& out, bool overwrite, const std::vector<std::string>& inputs = {});
  ~RunFolder();
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  // Path of a file inside the staging folder (sub-folders are created on demand).
  std::string path(const std::string& relative) const;
  const std::string& target() const { return target_; }
  // Writes the marker, syncs, and moves the finished run into place.
  void commit();

 private:
  std::string target_, staging_, lock_path_;
  int lock_fd_ = -1;
  bool overwrite_, committed_ = false;
};

// Text file written to a temporary, checked through close() and fsync, then renamed, so readers
// never see half a file; a full disk is one line naming the file.
void write_text_file(const std::string& path, const std::string& contents);

}  // namespace cg::apps
