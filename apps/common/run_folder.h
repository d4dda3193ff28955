#pragma once
// A run folder that appears whole or not at all. Outputs are written into a staging folder
// beside the target ("<out>.partial-<pid>"); commit() renames it onto the target. If the run
// fails (exception, NaN, bad input), the destructor removes the staging folder, so a failed
// run leaves nothing behind and never damages an earlier run in the target.
#include <string>

namespace cg::apps {

class RunFolder {
 public:
  // Refuses (cg::Error) when `out` already holds a run (a config.json) and !overwrite.
  RunFolder(const std::string& out, bool overwrite);
  ~RunFolder();
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  // Path of a file inside the staging folder (sub-folders are created on demand).
  std::string path(const std::string& relative) const;
  const std::string& target() const { return target_; }
  // Moves the finished run into place (replacing an old run only when overwrite was given).
  void commit();

 private:
  std::string target_, staging_;
  bool overwrite_, committed_ = false;
};

// Text file written to "<path>.tmp" then renamed, so readers never see half a file.
void write_text_file(const std::string& path, const std::string& contents);

}  // namespace cg::apps
