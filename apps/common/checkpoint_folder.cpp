#include "apps/common/checkpoint_folder.h"

#include <filesystem>
#include <fstream>

#include "apps/common/run_folder.h"
#include "autograd/error.h"

namespace cg::apps {

std::string checkpoint_folder_of(const std::string& out) {
  std::string o = out;
  while (o.size() > 1 && o.back() == '/') o.pop_back();
  return o + ".checkpoints";
}

nlohmann::json interrupted_run_config(const std::string& out) {
  const std::string file = checkpoint_folder_of(out) + "/config.json";
  std::ifstream f(file);
  if (!f)
    throw Error("--resume " + out + ": no checkpoints of an interrupted run (expected " + file +
                ", written by a run with --checkpoint-every)");
  try {
    return nlohmann::json::parse(f);
  } catch (const nlohmann::json::exception&) {
    throw Error("--resume " + out + ": " + file + " is not valid JSON");
  }
}

void start_checkpoint_folder(const std::string& out, const nlohmann::json& config) {
  const std::string folder = checkpoint_folder_of(out);
  if (std::filesystem::exists(folder))
    throw Error("--out " + out + ": " + folder + " holds the checkpoints of an interrupted run; continue it with " +
                "--resume " + out + ", or remove that folder to start again");
  std::filesystem::create_directories(folder);
  write_text_file(folder + "/config.json", config.dump(2) + "\n");
}

}  // namespace cg::apps
