#include "apps/common/run_folder.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "autograd/error.h"

namespace fs = std::filesystem;

namespace cg::apps {

RunFolder::RunFolder(const std::string& out, bool overwrite) : target_(out), overwrite_(overwrite) {
  if (out.empty()) throw Error("--out: expected a folder name, found an empty string");
  while (target_.size() > 1 && target_.back() == '/') target_.pop_back();
  if (fs::exists(target_) && !fs::is_directory(target_))
    throw Error("--out " + target_ + ": exists and is not a folder");
  if (fs::exists(fs::path(target_) / "config.json") && !overwrite)
    throw Error("--out " + target_ +
                ": already holds a run (config.json found); choose another folder or pass --overwrite");
  staging_ = target_ + ".partial-" + std::to_string(::getpid());
  fs::remove_all(staging_);
  fs::create_directories(staging_);
}

RunFolder::~RunFolder() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(staging_, ec);
  }
}

std::string RunFolder::path(const std::string& relative) const {
  const fs::path p = fs::path(staging_) / relative;
  fs::create_directories(p.parent_path());
  return p.string();
}

void RunFolder::commit() {
  if (fs::exists(target_)) {
    if (!overwrite_ && !fs::is_empty(target_))
      throw Error("--out " + target_ + ": appeared during the run; results left in " + staging_);
    fs::remove_all(target_);
  }
  if (fs::path(target_).has_parent_path()) fs::create_directories(fs::path(target_).parent_path());
  fs::rename(staging_, target_);
  committed_ = true;
}

void write_text_file(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) throw Error("cannot write " + tmp);
    f << contents;
    if (!f) throw Error("failed writing " + tmp);
  }
  fs::rename(tmp, path);
}

}  // namespace cg::apps
